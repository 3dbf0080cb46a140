from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from commerce.accounts.errors import EmailTaken, InvalidCredentials
from commerce.accounts.models import ShopperSession, User
from commerce.accounts.signals import shopper_signed_in


def shopper_session_create(
    *, channel: str, user: User | None = None, initial_context: dict[str, Any] | None = None
) -> ShopperSession:
    return ShopperSession.objects.create(channel=channel, user=user, initial_context=initial_context or {})


def shopper_session_end(*, session: ShopperSession) -> ShopperSession:
    if session.ended_at is None:
        session.ended_at = timezone.now()
        session.save(update_fields=["ended_at", "last_seen_at"])
    return session


@transaction.atomic
def user_register(*, email: str, password: str, name: str = "") -> User:
    """Creates a shopper account; Django's password validators decide what is strong enough."""
    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken("An account with this e-mail address already exists; sign in instead.")
    validate_password(password, user=User(email=email, name=name))
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, name=name.strip())
    except IntegrityError:  # two registrations racing for one address
        raise EmailTaken("An account with this e-mail address already exists; sign in instead.") from None


def user_authenticate(*, email: str, password: str) -> User:
    user = authenticate(username=email.strip().lower(), password=password)
    if user is None:
        raise InvalidCredentials("The e-mail address or password is not right.")
    return user


@transaction.atomic
def shopper_sign_in(*, user: User, session: ShopperSession | None, channel: str) -> ShopperSession:
    """Links the caller's guest session to the account and fans out (the cart merges).

    Returns the session that now names this user on ``channel``: the guest's own session when there
    was one, otherwise a new one.
    """
    if session is None or not session.is_active() or (session.user_id and session.user_id != user.pk):
        session = shopper_session_create(channel=channel, user=user)
        guest_session = None
    else:
        guest_session = session if session.user_id is None else None
        session.user = user
        session.save(update_fields=["user", "last_seen_at"])
    shopper_signed_in.send(sender=User, user=user, guest_session=guest_session)
    return session


@transaction.atomic
def account_update(*, user: User, **fields: Any) -> User:
    allowed = {"name", "phone", "timezone", "voice_opt_in"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Unknown account fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=list(fields))
    return user
