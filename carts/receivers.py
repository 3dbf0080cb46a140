"""Reactions to other apps' signals (connected in CartsConfig.ready())."""

from __future__ import annotations

from carts.services import cart_merge_guest_into_user


def merge_guest_cart_on_sign_in(sender, *, user, guest_session=None, **kwargs) -> None:
    """Every sign-in (page login/registration, API /auth/login and /auth/register) merges the guest cart.

    The signal is sent inside the sign-in transaction, so a failed merge undoes the sign-in too
    rather than leaving a half-merged cart.
    """
    cart_merge_guest_into_user(user=user, guest_session=guest_session)
