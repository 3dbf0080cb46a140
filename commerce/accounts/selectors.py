from __future__ import annotations

from commerce.accounts.models import ShopperSession, User


def shopper_session_get_active(*, key: str) -> ShopperSession | None:
    if not key or len(key) > 64:
        return None
    return ShopperSession.objects.active().select_related("user").filter(key=key).first()


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()
