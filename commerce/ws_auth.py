"""WebSocket auth for API clients: ``?token=<accessToken>`` (CONTRACT.md section 3).

Browsers are identified by their Django session (``AuthMiddlewareStack`` in ``asgi.py``); a client
without cookies passes its JWT access token in the query string instead. A token that is present
but invalid or expired leaves the connection anonymous and sets ``scope["auth_error"]`` so the
consumer can tell the client why, rather than silently treating it as a guest.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken


def query_params(scope: dict[str, Any]) -> dict[str, str]:
    """The first value of each query-string parameter of a WebSocket scope."""
    raw = scope.get("query_string", b"").decode("latin-1")
    return {name: values[0] for name, values in parse_qs(raw).items() if values}


@database_sync_to_async
def _user_for_token(raw: str):
    try:
        token = AccessToken(raw)
    except TokenError:
        return None
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if user_id is None:
        return None
    user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    return user if user is not None and user.is_active else None


class JWTQueryAuthMiddleware(BaseMiddleware):
    """Sets ``scope["user"]`` from ``?token=``; without a token the session's user stays."""

    async def __call__(self, scope, receive, send):
        token = query_params(scope).get("token", "")
        if token:
            scope = dict(scope)
            user = await _user_for_token(token[:4096])
            if user is None:
                scope["user"] = AnonymousUser()
                scope["auth_error"] = "invalid_token"
            else:
                scope["user"] = user
        return await super().__call__(scope, receive, send)
