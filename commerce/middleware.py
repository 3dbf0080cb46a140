"""Request hardening for the JSON API, before any view runs."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from commerce.errors import error_response

API_PREFIX = "/api/"


class ApiGuardMiddleware:
    """Refuses oversized API bodies with the contract's 413 error instead of Django's HTML 400, and a
    NUL character in the path or query (no text the API stores may hold one; commerce.openapi)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return error_response(400, "invalid_content_length", "Content-Length is not a number.")
            if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
                return error_response(
                    400, "invalid_input", "The path or query holds a NUL character.", {"field": "url"}
                )
            if length > settings.REQUEST_MAX_BODY_BYTES:
                return error_response(
                    413,
                    "body_too_large",
                    f"The request body is larger than {settings.REQUEST_MAX_BODY_BYTES} bytes.",
                )
        return self.get_response(request)
