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
    """Sign-out with a refresh token that is not valid, is revoked or is another account's: 422 (the
    request is well formed and the caller signed in; the token's state refuses it). Not 401, which
    would tell the client its own access token failed."""

    status_code = 422
    code = "invalid_token"


class WeakPassword(DomainError):
    """A password Django's validators refuse (too short, too common, all digits, too like the e-mail):
    422, a rule (partly data: the common-password list) no schema states. ``details.fields`` names it."""

    status_code = 422
    code = "weak_password"


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
