"""API authentication beside simplejwt: the optional JWT of public endpoints, and personal access tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

if TYPE_CHECKING:  # DRF imports authentication classes while the app registry is still loading
    from commerce.accounts.models import PersonalAccessToken, User

TOKEN_PREFIX = "pat_"
READ_SCOPE = "read"


class OptionalJWTAuthentication(JWTAuthentication):
    """A valid Bearer token identifies the caller; none, or an expired or bad one, is a guest.

    For public reads such as the catalog: a stale token in a mobile app must not turn a product
    listing into a 401, it only loses the personal order.
    """

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        try:
            return super().authenticate(request)
        except (InvalidToken, AuthenticationFailed):
            return None


class OptionalJWTScheme(SimpleJWTScheme):
    """In the OpenAPI schema the optional token is the same bearer JWT, under a name of its own."""

    target_class = "commerce.accounts.authentication.OptionalJWTAuthentication"
    name = "optionalJwtAuth"


def bearer_secret(authorization: str) -> str | None:
    """The secret of an ``Authorization: Bearer pat_...`` header, or None for anything else (a JWT)."""
    kind, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    if kind.lower() != "bearer" or not secret.startswith(TOKEN_PREFIX):
        return None
    return secret


class PersonalAccessTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer pat_...``: a shopper's personal access token, beside simplejwt's JWTs.

    The scope is checked here, for every endpoint alike, so no view can forget it: a safe method needs
    ``read``; a write needs the scope its view names in ``token_scope`` (``cart``, ``orders``), and a
    view that names none cannot be used with a token at all. Each use is in the audit trail. A bad or
    refused token is an error (401 ``invalid_token``, 403 ``insufficient_scope``), never a quiet guest.
    """

    def authenticate(self, request: Any) -> tuple[User, PersonalAccessToken] | None:
        from commerce.accounts.services import access_token_find, access_token_use

        secret = bearer_secret(get_authorization_header(request).decode("latin-1"))
        if secret is None:
            return None
        token = access_token_find(secret=secret)
        view = (getattr(request, "parser_context", None) or {}).get("view")
        scope = READ_SCOPE if request.method in SAFE_METHODS else None
        if scope is None:
            scope = getattr(view, "token_scope", None)
        access_token_use(token=token, door="api", what=f"{request.method} {request.path}", scope=scope)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


class PersonalAccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "commerce.accounts.authentication.PersonalAccessTokenAuthentication"
    name = "personalAccessToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A personal access token (pat_...)."}
