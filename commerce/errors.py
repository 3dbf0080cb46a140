"""One error type for business rules, and the API's single JSON error shape.

Every API error answers ``{"error": {"code", "message", "details"}}`` (CONTRACT.md section 2).
Services raise :class:`DomainError` (or an app's subclass); DRF views let it propagate and
:func:`api_exception_handler` renders it; HTML views turn it into a form error or a message.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """A business rule said no. ``code`` is a stable snake_case identifier for clients."""

    status_code = 422
    code = "rule_violated"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.details = details or {}


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid_input"


class RateLimited(DomainError):
    """Too many attempts (CONTRACT.md section 6): 429 ``rate_limited`` with ``Retry-After`` seconds."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, details: dict[str, Any] | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, details={"retryAfter": self.retry_after, **(details or {})})


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status_code: int, code: str, message: str, details: dict | None = None) -> JsonResponse:
    """The contract's error shape for plain Django views and middleware."""
    return JsonResponse(error_body(code, message, details), status=status_code)


async def send_asgi_error(
    send: Any, status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    """The contract's error (``body`` from :func:`error_body`) from raw ASGI code, before Django runs."""
    raw = json.dumps(body).encode()
    extra = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


_DRF_CODES: dict[type[exceptions.APIException], tuple[str, str | None]] = {
    exceptions.ParseError: ("malformed_json", "The request body is not valid JSON."),
    exceptions.AuthenticationFailed: ("invalid_credentials", None),
    exceptions.NotAuthenticated: ("not_authenticated", "Sign in first: this needs an account."),
    exceptions.PermissionDenied: ("forbidden", None),
    exceptions.NotFound: ("not_found", "Not found."),
    exceptions.MethodNotAllowed: ("method_not_allowed", None),
    exceptions.NotAcceptable: ("not_acceptable", None),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Send the body as application/json."),
    exceptions.Throttled: ("rate_limited", None),
}


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            inner = _first_message(value)
            return inner if field in ("non_field_errors", "detail") else f"{field}: {inner}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response: Response | None
    if isinstance(exc, DomainError):
        response = Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
        # Every 429 says when to come back (CONTRACT.md section 6), whichever limiter refused.
        retry_after = getattr(exc, "retry_after", None)
        if exc.status_code == 429 and retry_after:
            response["Retry-After"] = str(retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("invalid_input", _first_message(exc.detail), {"fields": details})
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    code, message = next(
        ((c, m) for cls, (c, m) in _DRF_CODES.items() if isinstance(exc, cls)), ("error", None)
    )
    detail = getattr(exc, "detail", "")
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated) and isinstance(
        detail, dict
    ):
        # simplejwt's token errors carry a dict; keep its code, flatten the message.
        code = "invalid_token" if detail.get("code") == "token_not_valid" else code
        detail = detail.get("detail", detail)
    extra: dict[str, Any] | None = None
    wait = getattr(exc, "wait", None)  # Throttled's seconds (absent from the stubs)
    if isinstance(exc, exceptions.Throttled) and wait:
        extra = {"retryAfter": max(1, math.ceil(wait))}  # DRF already set Retry-After
    response.data = error_body(code, message or _first_message(detail), extra)
    return response
