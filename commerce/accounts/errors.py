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
