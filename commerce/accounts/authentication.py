"""API authentication beside simplejwt: the optional JWT of public endpoints, and personal access tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt import exceptions as jwt_exceptions
from rest_framework_simplejwt import settings as simplejwt_settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.utils import get_md5_hash_password

if TYPE_CHECKING:  # DRF imports authentication classes while the app registry is still loading
    from commerce.accounts.models import PersonalAccessToken, User

TOKEN_PREFIX = "pat_"
READ_SCOPE = "read"


class StoreJWTAuthentication(JWTAuthentication):
    """simplejwt's Bearer JWT, with the account read that every signed-in API request makes built once per
    process (:func:`~commerce.accounts.selectors.user_get_by_pk`; the ORM's ``get`` cost ~0.9 ms of a
    worker's CPU a request, measured in the checkout benchmark). The same answers as simplejwt's: a
    user that is gone or inactive, or (with ``CHECK_REVOKE_TOKEN``) whose password changed, is refused;
    a token whose user id is not a plain number is left to simplejwt."""

    def get_user(self, validated_token: Any) -> Any:
        from commerce.accounts.selectors import user_get_by_pk

        jwt_settings = simplejwt_settings.api_settings  # read now: tests swap it when SIMPLE_JWT changes
        user_id = validated_token.get(jwt_settings.USER_ID_CLAIM)
        if jwt_settings.USER_ID_FIELD != "id" or not (
            isinstance(user_id, str) and user_id.isascii() and user_id.isdigit()
        ):
            return super().get_user(validated_token)
        user = user_get_by_pk(int(user_id))
        if user is None:
            raise jwt_exceptions.AuthenticationFailed(_("User not found"), code="user_not_found")
        if jwt_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise jwt_exceptions.AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if jwt_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            jwt_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise jwt_exceptions.AuthenticationFailed(
                _("The user's password has been changed."), code="password_changed"
            )
        return user


class StoreJWTScheme(SimpleJWTScheme):
    """In the OpenAPI schema it is simplejwt's bearer JWT, under the same name."""

    target_class = "commerce.accounts.authentication.StoreJWTAuthentication"


class OptionalJWTAuthentication(StoreJWTAuthentication):
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
