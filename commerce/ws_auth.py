"""WebSocket auth for API clients: a one-time ticket (recommended) or ``?token=<accessToken>``.

Browsers are identified by their Django session (``AuthMiddlewareStack`` in ``asgi.py``). A client
without cookies either
- asks ``POST /api/v1/auth/ws-ticket`` (signed in) for a ticket and connects with ``?ticket=``: the
  ticket is good for one connect within ``WS_TICKET_TTL_SECONDS`` and is kept in the shared cache only
  as a SHA-256 digest, so a URL that ends up in a log is worthless a minute later; or
- passes its JWT access token as ``?token=`` (CONTRACT.md section 3; kept for existing clients); or
- connects with ``?auth=frame`` and sends ``{"type": "auth", "payload": {"ticket"|"token": ...}}`` as
  its first frame (the consumer checks it with :func:`user_for_credential`), so nothing secret is in
  the URL even without a ticket.

Either way the socket may live only as long as the credential behind it: ``scope["auth_expires_at"]``
(epoch seconds, the access token's ``exp``) tells the consumer when to close it (code 4401). A
credential that is present but invalid, expired, spent or belongs to a deactivated account leaves the
connection anonymous and sets ``scope["auth_error"]`` so the consumer can tell the client why, rather
than silently treating it as a guest.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from commerce.errors import DomainError

logger = logging.getLogger(__name__)

WS_TICKET_TTL_SECONDS = 60
_TICKET_PREFIX = "ws-ticket:"
_REVOKED_PREFIX = "ws-ticket-revoked:"
_MAX_CREDENTIAL_CHARS = 4096


def query_params(scope: dict[str, Any]) -> dict[str, str]:
    """The first value of each query-string parameter of a WebSocket scope."""
    raw = scope.get("query_string", b"").decode("latin-1")
    return {name: values[0] for name, values in parse_qs(raw).items() if values}


def client_address(scope: dict[str, Any]) -> str:
    """The caller's address as the API's throttles see it: ``X-Forwarded-For`` counted from the right
    through ``NUM_PROXIES`` proxies, else the peer address (DRF's ``BaseThrottle.get_ident`` rule)."""
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    peer = (scope.get("client") or ("",))[0] or ""
    if num_proxies > 0:
        headers = dict(scope.get("headers") or [])
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
        addrs = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addrs:
            return addrs[-min(num_proxies, len(addrs))]
    return peer or "unknown"


class TicketUnavailable(DomainError):
    status_code = 503
    code = "ticket_unavailable"


@dataclass(frozen=True)
class IssuedTicket:
    ticket: str
    expires_in: int


def _ticket_cache_key(raw: str) -> str:
    return _TICKET_PREFIX + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def ws_ticket_issue(*, user, credential_expires_at: int | None) -> IssuedTicket:
    """A one-time socket ticket for ``user``; the socket it opens closes when the credential the ticket
    was asked with (``credential_expires_at``, epoch seconds) would have expired."""
    raw = secrets.token_urlsafe(32)
    try:
        cache.set(
            _ticket_cache_key(raw),
            {"user": user.pk, "exp": credential_expires_at, "iat": time.time()},
            timeout=WS_TICKET_TTL_SECONDS,
        )
    except (OSError, RedisError) as exc:
        logger.warning("Could not store a socket ticket: %s", exc)
        raise TicketUnavailable("Socket tickets are unavailable right now; try again shortly.") from exc
    return IssuedTicket(ticket=raw, expires_in=WS_TICKET_TTL_SECONDS)


def ws_tickets_revoke(*, user_id: int) -> None:
    """Voids the user's tickets issued until now (their credentials were revoked): a ticket asked for
    a moment before a password change must not open a socket after it."""
    try:
        cache.set(f"{_REVOKED_PREFIX}{user_id}", time.time(), timeout=WS_TICKET_TTL_SECONDS)
    except (OSError, RedisError) as exc:
        logger.warning("Could not void the socket tickets of user %s: %s", user_id, exc)


def ws_ticket_redeem(raw: str) -> dict[str, Any] | None:
    """Spends a ticket: ``{"user", "exp", "iat"}`` the first time; ``None`` for an unknown, expired,
    spent or revoked one.

    Of two connects racing with one ticket only the one whose delete removed the key wins.
    """
    key = _ticket_cache_key(raw)
    try:
        grant = cache.get(key)
        if grant is None or not cache.delete(key):
            return None
        revoked_at = cache.get(f"{_REVOKED_PREFIX}{grant['user']}")
    except (OSError, RedisError) as exc:
        logger.warning("Could not redeem a socket ticket: %s", exc)
        return None
    if revoked_at is not None and grant["iat"] <= revoked_at:
        return None
    return grant


def _active_user(user_id):
    if user_id is None:
        return None
    user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    return user if user is not None and user.is_active else None


@database_sync_to_async
def _user_for_token(raw: str) -> tuple[Any, int | None]:
    try:
        token = AccessToken(raw)  # type: ignore[arg-type]  # simplejwt types the encoded str as Token
    except TokenError:
        return None, None
    return _active_user(token.get(api_settings.USER_ID_CLAIM)), token.get("exp")


@database_sync_to_async
def _user_for_ticket(raw: str) -> tuple[Any, int | None]:
    grant = ws_ticket_redeem(raw)
    if grant is None:
        return None, None
    expires_at = grant.get("exp")
    if expires_at is not None and expires_at <= time.time():
        return None, None
    return _active_user(grant.get("user")), expires_at


async def user_for_credential(*, ticket: str = "", token: str = "") -> tuple[Any, int | None, str]:
    """``(user, expires_at, "")`` for a good ticket (preferred when both are given) or access token,
    else ``(None, None, error_code)`` (``invalid_ticket`` / ``invalid_token``)."""
    if ticket:
        user, expires_at = await _user_for_ticket(ticket[:_MAX_CREDENTIAL_CHARS])
        error = "invalid_ticket"
    else:
        user, expires_at = await _user_for_token(token[:_MAX_CREDENTIAL_CHARS])
        error = "invalid_token"
    return (user, expires_at, "") if user is not None else (None, None, error)


class JWTQueryAuthMiddleware(BaseMiddleware):
    """Sets ``scope["user"]`` from ``?ticket=`` or ``?token=``; without either the session's user stays."""

    async def __call__(self, scope, receive, send):
        params = query_params(scope)
        ticket, token = params.get("ticket", ""), params.get("token", "")
        if ticket or token:
            scope = dict(scope)
            user, expires_at, error = await user_for_credential(ticket=ticket, token=token)
            if user is None:
                scope["user"] = AnonymousUser()
                scope["auth_error"] = error
            else:
                scope["user"] = user
                scope["auth_expires_at"] = expires_at
        return await super().__call__(scope, receive, send)
