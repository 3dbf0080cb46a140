"""Who is asking: the door-level code that finds the shopper behind a page, API or socket request.

A *shopper* is a signed-in user, a guest session, or both (a user on a given channel). Guests are
named by a :class:`ShopperSession` key: pages keep it in the Django session, API clients send it as
``X-Session-Id`` or the ``session_id`` cookie (CONTRACT.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails
from rest_framework.request import Request
from rest_framework.response import Response

from commerce.accounts.errors import SessionNotFound
from commerce.accounts.models import ShopperSession, User
from commerce.accounts.selectors import (
    session_belongs_to_another,
    shopper_session_get_active,
    shopper_session_usable_by,
)
from commerce.accounts.services import shopper_session_create
from commerce.logs import bind_shopper

if TYPE_CHECKING:
    from rest_framework.views import APIView

PAGE_SESSION_KEY = "shopper_session_key"
SESSION_HEADER = "HTTP_X_SESSION_ID"
SESSION_COOKIE = "session_id"
# What a session key can look like (``"s_" + token_urlsafe``); the API schema documents the header so.
# A comma never fits: under WSGI it is how a repeated header shows (400 duplicate_header).
# Empty is no session (a new guest session is made).
SESSION_KEY_SCHEMA = {"type": "string", "pattern": "^[A-Za-z0-9_-]{0,64}$"}


@dataclass(frozen=True)
class Shopper:
    user: User | None
    session: ShopperSession | None

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @property
    def session_key(self) -> str:
        return self.session.key if self.session else ""


def signed_in_user(request: HttpRequest | Request) -> User:
    """The user behind a request that ``login_required``, ``IsAuthenticated`` or the admin let through
    (a guest reaching it is refused rather than handed on as an anonymous user)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user


class ShopperRequest(HttpRequest):
    """A page request as the middleware leaves it (for annotations): django-htmx's ``htmx`` and
    :class:`~commerce.accounts.middleware.ShopperMiddleware`'s lazy ``shopper``."""

    htmx: HtmxDetails
    shopper: Shopper
    _new_shopper_session: ShopperSession


class SignedInRequest(ShopperRequest):
    """A page request behind ``login_required``: ``user`` is the project's user, never anonymous."""

    user: User


def _user_of(request: HttpRequest | Request) -> User | None:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def shopper_from_page(request: HttpRequest, *, create: bool = False) -> Shopper:
    """The shopper of a browser page; ``create`` starts a guest session when there is none yet."""
    user = _user_of(request)
    # signed out (or someone else signed in) since: never reuse their session
    session = shopper_session_usable_by(key=request.session.get(PAGE_SESSION_KEY, ""), user=user)
    if session is None and create:
        session = shopper_session_create(channel=ShopperSession.Channel.WEB, user=user)
        request.session[PAGE_SESSION_KEY] = session.key
    bind_shopper(user, session.key if session else "")
    return Shopper(user=user, session=session)


def remember_page_session(request: HttpRequest, session: ShopperSession) -> None:
    request.session[PAGE_SESSION_KEY] = session.key


def session_key_from_api(request: HttpRequest | Request) -> str:
    return (request.META.get(SESSION_HEADER) or request.COOKIES.get(SESSION_COOKIE) or "").strip()


def shopper_from_api(
    request: HttpRequest | Request, *, create: bool = False, channel: str = "api"
) -> Shopper:
    """The shopper of an API call.

    A session id that is unknown or expired is an error (404 ``session_not_found``) rather than a
    silent new cart: the client must learn that what it holds no longer names anything. A guest with
    no session id at all gets a new session when ``create`` is set; the API view returns its key in
    the ``X-Session-Id`` header and the ``session_id`` cookie.
    """
    user = _user_of(request)
    key = session_key_from_api(request)
    session = None
    if key:
        session = shopper_session_get_active(key=key)
        if session is None:
            raise SessionNotFound(
                "Unknown or expired session id; start a new one with POST /api/v1/sessions.",
                details={"sessionId": key},
            )
        if session_belongs_to_another(session, user):
            # Another account's session: never let it name their cart or conversation.
            raise SessionNotFound("Unknown or expired session id.", details={"sessionId": key})
    elif create and user is None:
        session = shopper_session_create(channel=channel)
        # A mark for ShopperAPIMixin.finalize_response, which echoes the new key to the client.
        request._new_shopper_session = session  # type: ignore[union-attr]  # set here, read there
    bind_shopper(user, session.key if session else "")
    return Shopper(user=user, session=session)


if TYPE_CHECKING:  # what the mixin is mixed into, for the checker; plain object at run time
    _APIView = APIView
else:
    _APIView = object


class ShopperAPIMixin(_APIView):
    """For DRF views: ``self.get_shopper()`` and the new session's key echoed to the client."""

    def get_shopper(self, *, create: bool = False) -> Shopper:
        return shopper_from_api(self.request, create=create)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        new_session = getattr(request, "_new_shopper_session", None) or getattr(
            getattr(request, "_request", None), "_new_shopper_session", None
        )
        if new_session is not None:
            response["X-Session-Id"] = new_session.key
            response.set_cookie(
                SESSION_COOKIE,
                new_session.key,
                samesite="Lax",
                httponly=True,
                secure=bool(settings.SESSION_COOKIE_SECURE),  # Secure like Django's own session cookie
            )
        return response
