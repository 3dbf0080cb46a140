"""Text -> Understanding: rule-based, no network, well under a millisecond per message.

``engine.py`` reads a message (normalise, spelling, clauses, the table, slots, resolvers); ``rules.py``
holds the table as data (rows of intent, patterns, unless-patterns, confidence); ``explain.py`` says why
a message was read as it was (``python manage.py nlu_explain "text"``). The names below are the ones the
rest of the code imports.
"""

from .engine import (
    ACTION_INTENTS,
    DEFAULT_VOCABULARY,
    INTENTS,
    MAX_CHARS,
    IntentResult,
    NluContext,
    Understanding,
    Vocabulary,
    read_as,
    understand,
)
from .rules import ROWS, RULES, Row, Rule

__all__ = [
    "ACTION_INTENTS",
    "DEFAULT_VOCABULARY",
    "INTENTS",
    "MAX_CHARS",
    "ROWS",
    "RULES",
    "IntentResult",
    "NluContext",
    "Row",
    "Rule",
    "Understanding",
    "Vocabulary",
    "read_as",
    "understand",
]
