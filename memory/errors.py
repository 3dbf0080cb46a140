"""Memory's errors (codes are part of the API: clients and the assistant may branch on them)."""

from commerce.errors import DomainError, NotFound


class InvalidPreference(DomainError):
    """422: a well-formed preference the rules refuse: a brand, category, colour or style the catalog
    does not have (the vocabulary is data), a size that is not one, a lowest price above the highest,
    one value both liked and disliked, one value forgotten from a preference that is not a list.
    ``details`` names the field, the value and, where there are some, close matches (``suggestions``)."""

    status_code = 422
    code = "invalid_preference"


class MalformedPreferences(InvalidPreference):
    """400: what the API schema itself forbids (not an object, a key that is not a preference, a list
    that is not a list, a size kind that does not exist, an unreadable amount); same code and details."""

    status_code = 400


class UnknownPreferenceKey(NotFound):
    code = "unknown_preference_key"


class AffinityNotFound(NotFound):
    code = "affinity_not_found"


class SummaryNotFound(NotFound):
    code = "summary_not_found"
