from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from commerce.accounts.errors import (
    EmailTaken,
    InsufficientScope,
    InvalidAccessToken,
    InvalidCredentials,
    InvalidCurrentPassword,
    InvalidOtp,
    InvalidRefreshToken,
)
from commerce.accounts.models import PersonalAccessToken, ShopperSession, User
from commerce.accounts.selectors import session_belongs_to_another, shopper_session_by_key
from commerce.accounts.signals import credentials_revoked, shopper_signed_in
from commerce.accounts.throttle import login_failure_record, normalise_login, raise_if_locked
from commerce.audit.services import audit_record
from commerce.cache import count_many
from commerce.errors import InvalidInput, NotFound, RateLimited


def shopper_session_create(
    *, channel: str, user: User | None = None, initial_context: dict[str, Any] | None = None
) -> ShopperSession:
    return ShopperSession.objects.create(channel=channel, user=user, initial_context=initial_context or {})


def shopper_session_for_key(*, key: str, channel: str) -> ShopperSession:
    """The session named by a key the door derives itself (an MCP session's), made on first use."""
    session, _created = ShopperSession.objects.get_or_create(key=key, defaults={"channel": channel})
    return session


def shopper_session_end(*, session: ShopperSession) -> ShopperSession:
    if session.ended_at is None:
        session.ended_at = timezone.now()
        session.save(update_fields=["ended_at", "last_seen_at"])
    return session


def user_register(*, email: str, password: str, name: str = "", request: HttpRequest | None = None) -> User:
    """Creates a shopper account; Django's password validators decide what is strong enough.

    With ``request`` (every public door) the login locks apply: a locked address or e-mail is refused,
    and a refused registration (address taken, weak password) counts as a failed attempt, so register
    cannot be used to probe which addresses have accounts faster than sign-in can.
    """
    if request is not None:
        raise_if_locked(request, email)
    try:
        return _user_create(email=email, password=password, name=name)
    except (EmailTaken, ValidationError):
        if request is not None:
            login_failure_record(request, email)
        raise


def user_for_agent_buyer(*, email: str, name: str = "", create: bool) -> User | None:
    """The account an agent platform's buyer e-mail names (the platform vouches for it, signed).

    With ``create`` a buyer without an account gets one without a password (set through password
    reset, like any forgotten one); the agent learns nothing about the account either way.
    """
    email = User.objects.normalize_email((email or "").strip()).lower()
    if not email:
        return None
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is not None or not create:
        return user
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=None, name=name.strip()[:150])
    except IntegrityError:  # two first orders of one new buyer raced; the other created the account
        return User.objects.get(email__iexact=email)


@transaction.atomic
def _user_create(*, email: str, password: str, name: str) -> User:
    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken("An account with this e-mail address already exists; sign in instead.")
    validate_password(password, user=User(email=email, name=name))
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, name=name.strip())
    except IntegrityError:  # two registrations racing for one address
        raise EmailTaken("An account with this e-mail address already exists; sign in instead.") from None


def user_authenticate(*, email: str, password: str, request: HttpRequest) -> User:
    """The account for this e-mail and password, through the login locks (commerce.accounts.throttle).

    ``request`` is only what axes needs to count per client address; no rule here reads it otherwise.
    A locked account or address is refused (429) even with the right password.
    """
    raise_if_locked(request, email)
    user = authenticate(request=request, username=normalise_login(email), password=password)
    if user is None:
        raise_if_locked(request, email)
        raise InvalidCredentials("The e-mail address or password is not right.")
    return user


def password_reset_allowed(*, client: str) -> None:
    """Counts one reset e-mail asked for by this client address; over PASSWORD_RESET_PER_HOUR, refused."""
    (asked,) = count_many([f"accounts:password-reset:{client}"], timeout=3600)
    if asked > settings.PASSWORD_RESET_PER_HOUR:
        raise RateLimited(
            "Too many password reset requests from here. Try again in an hour.", retry_after=3600
        )


PASSWORD_RESET_SUBJECT_TEMPLATE = "accounts/password_reset_subject.txt"
PASSWORD_RESET_EMAIL_TEMPLATE = "accounts/password_reset_email.txt"


def password_reset_mail_enqueue(*, user: User, domain: str, site_name: str, use_https: bool) -> None:
    """Hands the reset e-mail to Celery through the outbox (in the caller's transaction): the request
    answers the same whatever SMTP does, and the mail is retried until it goes (or shows as failed)."""
    from commerce.accounts.tasks import send_password_reset_mail_task
    from commerce.celery import enqueue

    enqueue(
        send_password_reset_mail_task,
        kwargs={"user_id": user.pk, "domain": domain, "site_name": site_name, "use_https": use_https},
        robust=True,  # the embedded run (eager): a mail that cannot go is logged, the request answers
    )


def password_reset_mail_send(*, user_id: int, domain: str, site_name: str, use_https: bool) -> bool:
    """Sends one reset e-mail (Django's token, made now: nothing secret waited in the outbox or the
    broker). False when the account is gone, inactive or cannot use a password any more. SMTP errors
    propagate: the task retries them."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password() or not user.email:
        return False
    context = {
        "email": user.email,
        "domain": domain,
        "site_name": site_name,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": "https" if use_https else "http",
    }
    subject = "".join(render_to_string(PASSWORD_RESET_SUBJECT_TEMPLATE, context).splitlines())
    body = render_to_string(PASSWORD_RESET_EMAIL_TEMPLATE, context)
    EmailMultiAlternatives(subject, body, None, [user.email]).send()
    return True


def _refresh_tokens_revoke(*, user: User) -> int:
    """Blacklists every outstanding refresh token of the user; returns how many."""
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    tokens = list(outstanding)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in tokens], ignore_conflicts=True
    )
    return len(tokens)


def _access_tokens_revoke(*, user: User, reason: str) -> int:
    """Revokes every live personal access token: a thief who had the password could have made one, so
    changing it (or signing out everywhere) must end that access too (docs/agents.md)."""
    revoked = PersonalAccessToken.objects.filter(user=user).active().update(revoked_at=timezone.now())
    if revoked:
        audit_record(action="token.revoke", actor=user, obj=user, summary={"all": revoked, "reason": reason})
    return revoked


def _credentials_revoked_on_commit(*, user: User, reason: str) -> None:
    transaction.on_commit(lambda: credentials_revoked.send(sender=User, user=user, reason=reason))


def refresh_token_revoke(*, user: User, refresh_token: str) -> None:
    """Signs one client out: its refresh token is blacklisted. A token that is not valid, or is another
    user's, is refused rather than ignored, so a client cannot believe it signed out when it did not."""
    try:
        # simplejwt annotates the encoded token as a Token, but it decodes the string a client sends.
        token = RefreshToken(refresh_token)  # type: ignore[arg-type]  # simplejwt types str as Token
    except TokenError:
        raise InvalidRefreshToken("The refresh token is not valid.") from None
    if str(token.get(api_settings.USER_ID_CLAIM)) != str(getattr(user, api_settings.USER_ID_FIELD)):
        raise InvalidRefreshToken("The refresh token is not valid.")
    token.blacklist()


@transaction.atomic
def user_sign_out_everywhere(*, user: User) -> int:
    """Every refresh token of the user is refused from now on and open sockets close (4401)."""
    revoked = _refresh_tokens_revoke(user=user)
    _access_tokens_revoke(user=user, reason="signed_out_everywhere")
    _credentials_revoked_on_commit(user=user, reason="signed_out_everywhere")
    return revoked


def user_change_password(
    *, user: User, current_password: str, new_password: str, request: HttpRequest
) -> User:
    """Checks the current password through the login locks, applies Django's validators, and revokes
    every refresh token. Other page sessions end because Django ties them to the password hash (the
    page that asked keeps its own through ``update_session_auth_hash``)."""
    try:
        user_authenticate(email=user.email, password=current_password, request=request)
    except InvalidCredentials:
        # 400, not 401: the caller is signed in; only the password they typed is wrong.
        raise InvalidCurrentPassword("The current password is not right.") from None
    validate_password(new_password, user=user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        _refresh_tokens_revoke(user=user)
        _access_tokens_revoke(user=user, reason="password_changed")
        _credentials_revoked_on_commit(user=user, reason="password_changed")
    return user


@transaction.atomic
def user_password_was_reset(*, user: User) -> None:
    """After a reset by e-mail (Django's view set the password): the same revocation as a change."""
    _refresh_tokens_revoke(user=user)
    _access_tokens_revoke(user=user, reason="password_changed")
    _credentials_revoked_on_commit(user=user, reason="password_changed")


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Closes an account: no sign-in, no refresh, open sockets closed."""
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    user_deactivated(user=user)
    return user


def user_deactivated(*, user: User) -> None:
    """What follows an account's ``is_active`` going to False by any door (the service or the admin)."""
    _refresh_tokens_revoke(user=user)
    _credentials_revoked_on_commit(user=user, reason="deactivated")


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


def shopper_session_check(*, session: ShopperSession) -> tuple[ShopperSession, bool]:
    """What a guest socket checks before each message, in one query: its session as stored (saved
    again if it was purged, as :func:`shopper_session_restore`), and whether an account has since
    claimed it (signed in on any device)."""
    stored = shopper_session_by_key(str(session.key))
    if stored is None:
        return shopper_session_restore(session=session), False
    return stored, stored.user_id is not None


def shopper_session_restore(*, session: ShopperSession) -> ShopperSession:
    """The session saved again under its own key if it was purged while a client (an open socket) still
    held it, so the page or client that names it keeps naming the same session."""
    restored, _ = ShopperSession.objects.get_or_create(
        key=session.key, defaults={"channel": session.channel, "user": session.user}
    )
    return restored


# --- Staff MFA (django-otp: TOTP plus static backup codes) --------------------------------------
def mfa_enrolment_start(*, user: User) -> TOTPDevice:
    """The user's pending (unconfirmed) authenticator: the same one until it is confirmed, so reloading
    the enrolment page does not invalidate a QR code already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def mfa_enrolment_confirm(*, user: User, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirms the pending authenticator with a code from it; it replaces any earlier device and new
    backup codes replace the old ones. Returns the device and the backup codes (shown once, stored
    only as django-otp's static tokens)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    # Checked outside the transaction: django-otp's failure count (its throttle) must survive a refusal.
    if device is None or not device.verify_token((token or "").strip()):
        audit_record(action="mfa.enrolment_failed", actor=user, obj=user)
        raise InvalidOtp("That code is not right. Enter the 6 digits your authenticator app shows now.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        StaticDevice.objects.filter(user=user).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        backup = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(settings.MFA_BACKUP_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=backup, token=code) for code in codes])
        audit_record(action="mfa.enrolled", actor=user, obj=user)
    return device, codes


def mfa_sign_in_refused(*, user: User) -> None:
    """A staff sign-in whose password was right and whose one-time code was not: an audit entry."""
    audit_record(action="mfa.sign_in_failed", actor=user, obj=user)


@transaction.atomic
def mfa_reset(*, user: User) -> int:
    """Removes every OTP device of the user (lost phone): they enrol again at their next sign-in."""
    removed = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        removed += 1
    audit_record(action="mfa.reset", obj=user, summary={"devices_removed": removed})
    return removed


# --- personal access tokens --------------------------------------------------------------------------

ACCESS_TOKEN_LIFETIME_DAYS = (7, 30, 90, 365)
ACCESS_TOKEN_NAME_MAX = 80


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def access_token_create(
    *, user: User, name: str, scopes: list[str], expires_in_days: int
) -> tuple[PersonalAccessToken, str]:
    """A new token for ``user``; returns it and its secret, which is never stored and never shown again.

    Every token reads, so ``read`` is always among its scopes; ``expires_in_days`` is one of
    ``ACCESS_TOKEN_LIFETIME_DAYS`` (a token always ends).
    """
    name = (name or "").strip()
    if not name or len(name) > ACCESS_TOKEN_NAME_MAX:
        raise InvalidInput(
            f"Give the token a name of 1 to {ACCESS_TOKEN_NAME_MAX} characters.", details={"field": "name"}
        )
    known = list(PersonalAccessToken.Scope.values)  # in their own order: read, cart, orders
    unknown = sorted(set(scopes) - set(known))
    if unknown:
        raise InvalidInput(f"Unknown scope: {', '.join(unknown)}.", details={"field": "scopes"})
    if expires_in_days not in ACCESS_TOKEN_LIFETIME_DAYS:
        raise InvalidInput(
            f"A token lasts one of {', '.join(map(str, ACCESS_TOKEN_LIFETIME_DAYS))} days.",
            details={"field": "expiresInDays"},
        )
    secret = PersonalAccessToken.PREFIX + secrets.token_urlsafe(32)
    token = PersonalAccessToken.objects.create(
        user=user,
        name=name,
        token_hash=_token_digest(secret),
        hint=secret[:10],
        scopes=[s for s in known if s in {*scopes, PersonalAccessToken.Scope.READ}],
        expires_at=timezone.now() + timedelta(days=expires_in_days),
    )
    audit_record(
        action="token.create",
        actor=user,
        obj=token,
        summary={"name": name, "scopes": token.scopes, "expiresAt": token.expires_at.isoformat()},
    )
    return token, secret


@transaction.atomic
def access_token_revoke(*, user: User, token_id: int | str) -> PersonalAccessToken:
    """Ends one of ``user``'s own tokens at once (another user's token is "not found")."""
    pk = int(token_id) if str(token_id).isdigit() else None
    token = (
        PersonalAccessToken.objects.select_for_update().filter(user=user, pk=pk).first()
        if pk is not None
        else None
    )
    if token is None:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action="token.revoke", actor=user, obj=token, summary={"name": token.name})
    return token


def access_token_find(*, secret: str) -> PersonalAccessToken:
    """The live token a caller presents, or ``InvalidAccessToken`` (unknown, revoked, expired, or its
    account deactivated: all answered alike)."""
    token = None
    if secret.startswith(PersonalAccessToken.PREFIX):
        token = (
            PersonalAccessToken.objects.select_related("user")
            .filter(token_hash=_token_digest(secret))
            .first()
        )
    if token is None or not token.is_active() or not token.user.is_active:
        raise InvalidAccessToken("The access token is unknown, revoked or expired.")
    return token


def access_token_use(*, token: PersonalAccessToken, door: str, what: str, scope: str | None) -> None:
    """Records one use of ``token`` in the audit trail and refuses it unless it holds ``scope``.

    ``scope`` None: nothing a token may do (the caller must sign in); the refusal is recorded too.
    """
    allowed = scope is not None and token.allows(scope)
    PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    audit_record(
        action="token.use" if allowed else "token.refused",
        actor=token.user,
        obj=token,
        summary={"door": door, "what": what[:120], "scope": scope or ""},
    )
    if not allowed:
        if scope is None:
            raise InsufficientScope("A personal access token cannot do this; sign in to the store instead.")
        raise InsufficientScope(
            f"This token does not have the {scope!r} scope.", details={"requiredScope": scope}
        )
