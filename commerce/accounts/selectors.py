from __future__ import annotations

from django.db.models import QuerySet

from commerce.accounts.models import PersonalAccessToken, ShopperSession, User
from commerce.prepared import PreparedRead

# Every API request signed with a JWT reads its account: the read is built once per process.
_USER_BY_PK = PreparedRead("accounts.user_by_pk", lambda pk: User.objects.filter(pk=pk).order_by("pk")[:1])
# A guest socket's first message of each conversation reads its session: built once per process too.
_SESSION_BY_KEY = PreparedRead(
    "accounts.session_by_key",
    lambda key: ShopperSession.objects.filter(key=key).select_related("user").order_by("pk")[:1],
)


def shopper_session_get_active(*, key: str) -> ShopperSession | None:
    if not key or len(key) > 64:
        return None
    return ShopperSession.objects.active().select_related("user").filter(key=key).first()


def shopper_session_by_key(key: str) -> ShopperSession | None:
    """The session stored under ``key``, active or not, with its account."""
    return _SESSION_BY_KEY.first(key)


def session_belongs_to_another(session: ShopperSession, user: User | None) -> bool:
    """Whether a shopper session is an account's that is not ``user``'s (a guest's ``user`` is None).

    The one rule every door applies before a session may name a cart or a conversation: a signed-in
    account's session never serves a guest or another account, whoever holds its id.
    """
    return bool(session.user_id) and (user is None or session.user_id != user.pk)


def shopper_session_usable_by(*, key: str, user: User | None) -> ShopperSession | None:
    """The active session ``key`` names, when it may serve ``user``; None otherwise."""
    session = shopper_session_get_active(key=key) if key else None
    if session is None or session_belongs_to_another(session, user):
        return None
    return session


def user_get_by_pk(pk: int) -> User | None:
    return _USER_BY_PK.first(pk)


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def access_tokens_for_user(user: User) -> QuerySet[PersonalAccessToken]:
    return PersonalAccessToken.objects.filter(user=user)
