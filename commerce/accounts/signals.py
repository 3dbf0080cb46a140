"""Signals other apps listen to (connected in their ``ready()``)."""

from django.dispatch import Signal

# Sent inside the sign-in transaction: user, guest_session (a ShopperSession or None).
shopper_signed_in = Signal()
credentials_revoked = (
    Signal()
)  # kwargs: user, reason ("password_changed" | "signed_out_everywhere" | "deactivated")  # noqa: E501
