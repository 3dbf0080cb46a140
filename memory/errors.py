"""Memory's errors (codes are part of the API: clients and the assistant may branch on them)."""

from commerce.errors import InvalidInput, NotFound


class InvalidPreference(InvalidInput):
    """A preference value the store does not know or cannot accept; ``details`` names the field,
    the value and, where there are some, close matches (``suggestions``)."""

    code = "invalid_preference"


class UnknownPreferenceKey(NotFound):
    code = "unknown_preference_key"


class AffinityNotFound(NotFound):
    code = "affinity_not_found"


class SummaryNotFound(NotFound):
    code = "summary_not_found"
