"""Conversation and support error codes (raised by services, rendered by each door)."""

from commerce.errors import DomainError, InvalidInput, NotFound


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
