"""Conversation and support error codes (raised by services, rendered by each door)."""

from commerce.errors import DomainError, InvalidInput, NotFound, RateLimited


class TicketNotFound(NotFound):
    code = "ticket_not_found"


class MessageTooLong(DomainError):
    status_code = 413
    code = "message_too_long"


class EmptyMessage(InvalidInput):
    code = "empty_message"


class SignInRequired(DomainError):
    status_code = 401
    code = "not_authenticated"


class HandoffCodeInvalid(InvalidInput):
    code = "handoff_code_invalid"


class HandoffCodeNotFound(NotFound):
    code = "handoff_code_not_found"


class HandoffCodeUsed(DomainError):
    status_code = 409
    code = "handoff_code_used"


class HandoffCodeExpired(DomainError):
    code = "handoff_code_expired"


class HandoffSignInRequired(DomainError):
    status_code = 403
    code = "handoff_sign_in_required"


class HandoffRateLimited(RateLimited):
    """Too many refused codes: the contract's one limiter answer, 429 ``rate_limited`` with
    ``Retry-After`` (CONTRACT.md section 6), like every other limiter."""
