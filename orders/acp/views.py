"""The ACP doors (``/acp/checkout_sessions``): check who is calling, parse, call one service, render.

Order of checks: the integration is on, the request is signed (and carries the API key when one is
set), ``API-Version`` is supported, POSTs carry an ``Idempotency-Key``, the body is a valid request of
the spec's schema; then the service runs once per key. Errors use the protocol's ``Error`` shape.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from commerce.errors import DomainError
from orders.acp import idempotency, services
from orders.acp.errors import AcpError, ProcessingError, SessionNotFound
from orders.acp.idempotency import Answer
from orders.acp.models import AcpCheckoutSession
from orders.acp.selectors import SUPPORTED_VERSIONS, session_get, session_render
from orders.acp.signing import bearer_verify, request_verify
from orders.acp.validation import validate

logger = logging.getLogger(__name__)

Action = Callable[[dict[str, Any]], AcpCheckoutSession]


def _respond(request: HttpRequest, answer: Answer, *, headers: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse(answer.body, status=answer.status)
    for name, value in (headers or {}).items():
        response[name] = value
    if request.headers.get("Request-Id"):
        response["Request-Id"] = request.headers["Request-Id"]
    if request.method == "POST" and request.headers.get("Idempotency-Key"):
        response["Idempotency-Key"] = request.headers["Idempotency-Key"]
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _error(request: HttpRequest, error: AcpError) -> JsonResponse:
    return _respond(request, Answer(error.status, error.body()), headers=error.headers)


def _check_caller(request: HttpRequest) -> None:
    request_verify(
        body=request.body,
        signature=request.headers.get("Signature"),
        timestamp=request.headers.get("Timestamp"),
    )
    bearer_verify(request.headers.get("Authorization"))
    version = (request.headers.get("API-Version") or "").strip()
    if version not in SUPPORTED_VERSIONS:
        raise AcpError(
            "Send a supported API-Version header." if version else "The API-Version header is required.",
            code="unsupported_api_version" if version else "missing_api_version",
            extra={"supported_versions": list(SUPPORTED_VERSIONS)},
        )


def _body(request: HttpRequest, definition: str, *, optional: bool) -> dict[str, Any]:
    if optional and not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise AcpError("The request body is not valid JSON.", code="invalid_json", param="$") from None
    return validate(body, definition)


def _as_acp(error: DomainError) -> AcpError:
    return AcpError(
        error.message, code=error.code, status=error.status_code if error.status_code < 500 else 400
    )


def _run(action: Action, body: dict[str, Any], *, status: int) -> Answer:
    try:
        session = action(body)
    except AcpError as exc:
        return Answer(exc.status, exc.body())
    except DomainError as exc:
        error = _as_acp(exc)
        return Answer(error.status, error.body())
    return Answer(status, session_render(session))


def _post(
    request: HttpRequest, definition: str, action: Action, *, status: int = 200, optional: bool = False
) -> JsonResponse:
    key = idempotency.check_key(request.headers.get("Idempotency-Key"))
    body = _body(request, definition, optional=optional)
    answer = idempotency.run_once(
        endpoint=request.path, key=key, body=body, work=lambda: _run(action, body, status=status)
    )
    return _respond(request, answer)


def _door(handler: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """The checks every ACP request passes, and the protocol's error shape for whatever goes wrong."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> JsonResponse:
        if not settings.ACP_SIGNING_SECRET:
            return _error(request, SessionNotFound("Agentic checkout is not enabled here.", code="not_found"))
        try:
            _check_caller(request)
            return handler(request, **kwargs)
        except AcpError as exc:
            return _error(request, exc)
        except Exception:  # the protocol wants its Error body even for our own failures
            logger.exception("ACP %s %s failed", request.method, request.path)
            return _error(request, ProcessingError("The request could not be processed; retry later."))

    view.__name__ = handler.__name__
    return view


def _method_not_allowed(request: HttpRequest) -> JsonResponse:
    return _error(
        request, AcpError(f"{request.method} is not allowed here.", code="method_not_allowed", status=405)
    )


@_door
def checkout_sessions(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return _method_not_allowed(request)
    return _post(
        request,
        "CheckoutSessionCreateRequest",
        lambda body: services.session_create(body=body),
        status=201,
    )


@_door
def checkout_session(request: HttpRequest, session_id: str) -> JsonResponse:
    if request.method == "GET":
        session = session_get(session_id)
        if session is None:
            raise SessionNotFound(f"No checkout session {session_id}.")
        return _respond(request, Answer(200, session_render(session)))
    if request.method != "POST":
        return _method_not_allowed(request)
    return _post(
        request,
        "CheckoutSessionUpdateRequest",
        lambda body: services.session_update(public_id=session_id, body=body),
    )


def _session_action(
    definition: str, service: Callable[..., AcpCheckoutSession], *, optional: bool = False
) -> Callable[..., JsonResponse]:
    """The door of ``/complete`` or ``/cancel`` on one session."""

    @_door
    def action(request: HttpRequest, session_id: str) -> JsonResponse:
        if request.method != "POST":
            return _method_not_allowed(request)
        return _post(
            request, definition, lambda body: service(public_id=session_id, body=body), optional=optional
        )

    return action


complete = _session_action("CheckoutSessionCompleteRequest", services.session_complete)
cancel = _session_action("CancelSessionRequest", services.session_cancel, optional=True)
