from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from commerce.accounts.errors import EmailTaken, InvalidCredentials
from commerce.accounts.models import ShopperSession, User
from commerce.accounts.selectors import session_belongs_to_another
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
    if session is None or not session.is_active() or session_belongs_to_another(session, user):
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
    before = {name: getattr(user, name) for name in ("phone", "voice_opt_in")}
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=list(fields))
    changed = {name: (old, getattr(user, name)) for name, old in before.items() if getattr(user, name) != old}
    if changed:
        from commerce.audit.services import audit_record

        # the consent itself, and only that the phone number changed (its last digits, not the number)
        summary = {
            name: {"before": _masked(name, old), "after": _masked(name, new)}
            for name, (old, new) in changed.items()
        }
        audit_record(action="account.contact_and_consent", actor=user, obj=user, summary=summary)
    return user


def _masked(field: str, value: Any) -> Any:
    if field == "phone" and value:
        return f"…{str(value)[-2:]}"
    return value


def _unused_guest_sessions(*, seen_before: datetime) -> QuerySet[ShopperSession]:
    """Guest sessions nothing points at (no cart, conversation, handoff code, or any other app's row:
    every reverse relation of the model is checked, so a new one is covered without a change here)."""
    unused = ShopperSession.objects.filter(
        user__isnull=True, last_seen_at__lt=seen_before, initial_context={}
    )
    for relation in ShopperSession._meta.related_objects:
        unused = unused.filter(**{f"{relation.name}__isnull": True})
    return unused


def shopper_sessions_purge_unused(*, seen_before: datetime, batch: int = 5000) -> int:
    """Deletes up to ``batch`` never-used guest sessions (a bare socket connect or page visit makes one);
    returns how many. Rows are locked and re-checked in one statement, so a session that gets its first
    cart or message meanwhile is kept."""
    with transaction.atomic():
        candidates = _unused_guest_sessions(seen_before=seen_before).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        pks = list(candidates.values_list("pk", flat=True)[:batch])
        if not pks:
            return 0
        deleted, _ = _unused_guest_sessions(seen_before=seen_before).filter(pk__in=pks).delete()
    return deleted


def shopper_session_restore(*, session: ShopperSession) -> ShopperSession:
    """The session saved again under its own key if it was purged while a client (an open socket) still
    held it, so the page or client that names it keeps naming the same session."""
    restored, _ = ShopperSession.objects.get_or_create(
        key=session.key, defaults={"channel": session.channel, "user": session.user}
    )
    return restored
