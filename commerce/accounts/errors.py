from commerce.errors import DomainError, NotFound


class EmailTaken(DomainError):
    status_code = 409
    code = "email_taken"


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"


class SessionNotFound(NotFound):
    code = "session_not_found"
