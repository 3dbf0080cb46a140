"""The protocol's own error shape (``Error``: type, code, message, param), not our camelCase contract.

Raised by the ACP doors and services, rendered by ``orders.acp.views`` with the status it carries.
"""

from __future__ import annotations

INVALID_REQUEST = "invalid_request"
PROCESSING_ERROR = "processing_error"
SERVICE_UNAVAILABLE = "service_unavailable"


class AcpError(Exception):
    status = 400
    type = INVALID_REQUEST
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.param = param
        self.status = status or self.status
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"type": self.type, "code": self.code, "message": self.message}
        if self.param:
            body["param"] = self.param
        body.update(self.extra)
        return body


class SignatureInvalid(AcpError):
    status = 401
    code = "invalid_signature"


class Unauthorized(AcpError):
    status = 401
    code = "unauthorized"


class SessionNotFound(AcpError):
    status = 404
    code = "not_found"


class NotCancelable(AcpError):
    status = 405
    code = "not_cancelable"


class SessionClosed(AcpError):
    """An update or completion of a session that is already completed or canceled."""

    code = "session_closed"


class IdempotencyKeyRequired(AcpError):
    code = "idempotency_key_required"


class IdempotencyConflict(AcpError):
    status = 422
    code = "idempotency_conflict"


class IdempotencyInFlight(AcpError):
    status = 409
    code = "idempotency_in_flight"


class ProcessingError(AcpError):
    status = 500
    type = PROCESSING_ERROR
    code = "processing_error"


class ServiceUnavailable(AcpError):
    status = 503
    type = SERVICE_UNAVAILABLE
    code = "service_unavailable"
