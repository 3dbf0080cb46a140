from commerce.errors import DomainError, NotFound


class EmailTaken(DomainError):
    status_code = 409
    code = "email_taken"


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"


class SessionNotFound(NotFound):
    code = "session_not_found"


class InvalidCurrentPassword(DomainError):
    """Password change with a wrong current password: 400 (the caller is signed in; CONTRACT.md 6)."""

    status_code = 400
    code = "invalid_credentials"


class InvalidRefreshToken(DomainError):
    status_code = 400
    code = "invalid_token"


class InvalidOtp(DomainError):
    status_code = 400
    code = "invalid_otp"


class InvalidAccessToken(DomainError):
    """A personal access token that is unknown, revoked, expired or whose account is deactivated."""

    status_code = 401
    code = "invalid_token"


class InsufficientScope(DomainError):
    """A personal access token without the scope this call needs (a ``read`` token changes nothing)."""

    status_code = 403
    code = "insufficient_scope"
