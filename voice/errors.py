"""Voice recovery error codes (raised by voice.services, rendered by each door: the callback API's JSON
error, the admin's message, the recovery-code page). Each code lives here once."""

from commerce.errors import Conflict, DomainError, InvalidInput, NotFound


class RecoveryJobNotFound(NotFound):
    code = "recovery_job_not_found"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class NoAttemptsLeft(IllegalTransition):
    code = "no_attempts_left"


class RecoveryCartGone(Conflict):
    code = "recovery_cart_gone"


class RecoveryCodeExhausted(Conflict):
    code = "recovery_code_exhausted"


class RecoveryCodeNotFound(NotFound):
    code = "recovery_code_not_found"


class RecoveryCodeUsed(Conflict):
    """A recovery code brings a cart back once; a second use (page or chat) is refused."""

    code = "recovery_code_used"


class SignatureRejected(DomainError):
    """A provider callback that is not signed with the webhook secret, recently (401)."""

    status_code = 401
    code = "invalid_signature"


class WebhookNotConfigured(SignatureRejected):
    code = "webhook_not_configured"


class MissingSignature(SignatureRejected):
    code = "missing_signature"


class InvalidTimestamp(SignatureRejected):
    code = "invalid_timestamp"


class StaleTimestamp(SignatureRejected):
    code = "stale_timestamp"


class MalformedJson(InvalidInput):
    code = "malformed_json"


class MalformedBody(InvalidInput):
    code = "malformed_body"


class UnknownCall(NotFound):
    code = "unknown_call"
