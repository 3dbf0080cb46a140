"""Refusing requests that carry a critical header more than once (``REJECT_DUPLICATE_CRITICAL_HEADERS``).

Two copies of ``Host``, ``Content-Length`` or ``Transfer-Encoding`` are how requests are smuggled past
a proxy that reads one copy while the app reads the other; two ``Authorization``, ``X-Session-Id`` or
``Idempotency-Key`` leave it to chance which identity or key is used. Such a request gets 400
``duplicate_header`` before any view runs.

Under ASGI the server hands over every header line, so :class:`DuplicateHeaderASGIMiddleware` counts
them. Under WSGI the server joins repeated lines with commas (gunicorn keeps only the last
``Content-Type``/``Content-Length`` and refuses two ``Content-Length`` itself), so
:class:`DuplicateHeaderMiddleware` refuses a comma in the headers that never legitimately hold one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from commerce.errors import error_body, error_response, send_asgi_error

CRITICAL_HEADERS = (
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "authorization",
    "x-session-id",
    "idempotency-key",
)
# The headers whose joined copies show as a comma under WSGI (META names).
COMMA_FREE_META = {
    "HTTP_HOST": "host",
    "HTTP_TRANSFER_ENCODING": "transfer-encoding",
    "HTTP_AUTHORIZATION": "authorization",
    "HTTP_X_SESSION_ID": "x-session-id",
    "HTTP_IDEMPOTENCY_KEY": "idempotency-key",
}
STATUS = 400
CODE = "duplicate_header"


def _message(header: str) -> str:
    return f"The request carries the {header} header more than once."


def duplicated_in_scope(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The first critical header an ASGI scope's header list carries twice, if any."""
    counts = Counter(name.decode("latin1").lower() for name, _ in headers)
    return next((name for name in CRITICAL_HEADERS if counts[name] > 1), None)


def duplicated_in_meta(meta: dict[str, Any]) -> str | None:
    """The first comma-free critical header that arrived joined (WSGI's sign of a repeat), if any."""
    return next((name for key, name in COMMA_FREE_META.items() if "," in meta.get(key, "")), None)


class DuplicateHeaderASGIMiddleware:
    """Wraps the HTTP application: sees each header line, before Django joins them."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and settings.REJECT_DUPLICATE_CRITICAL_HEADERS:
            header = duplicated_in_scope(scope.get("headers", []))
            if header:
                body = error_body(CODE, _message(header), {"header": header})
                await send_asgi_error(send, STATUS, body, {"Connection": "close"})
                return
        await self.app(scope, receive, send)


class DuplicateHeaderMiddleware:
    """Django middleware (first in the chain): the WSGI side, and a second look under ASGI."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.REJECT_DUPLICATE_CRITICAL_HEADERS:
            header = duplicated_in_meta(request.META)
            if header:
                return error_response(STATUS, CODE, _message(header), {"header": header})
        return self.get_response(request)
