"""Who is asking, for the audit trail: the request's client address, user agent and request id, kept in
a context variable by :class:`AuditContextMiddleware` so services (which never take a request) can
record them."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestMeta:
    client_address: str = ""
    user_agent: str = ""
    request_id: str = ""


_current: ContextVar[RequestMeta | None] = ContextVar("audit_request_meta", default=None)


def current_request_meta() -> RequestMeta:
    return _current.get() or RequestMeta()


def request_meta_of(request: HttpRequest) -> RequestMeta:
    from commerce.ratelimit import client_address

    return RequestMeta(
        client_address=client_address(request)[:64],
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        # The id the logs carry (commerce.logs: the caller's when sane, else a new one).
        request_id=(getattr(request, "request_id", "") or request.META.get("HTTP_X_REQUEST_ID", ""))[:64],
    )


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(request_meta_of(request))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
