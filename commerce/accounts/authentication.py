"""API authentication for public endpoints that personalise when they know the caller."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken


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
