"""Text -> Understanding: rule-based, no network, well under a millisecond per message.

``rules.py`` holds the table as data (rows of intent, patterns, unless-patterns, confidence, with
placeholders filled from the lexicon). The engine is small modules: ``normalise`` (Unicode, shorthand,
typos), ``vocabulary`` (the store's words and their scan), ``clauses`` (cutting and gluing), ``classify``
(the whole-clause checks, then the table), ``slots`` (slots per intent), ``engine`` (the parser that
ties them together, the resolvers of rule families, ``understand``), ``understanding`` (the types);
``explain`` says why a message was read as it was (``python manage.py nlu_explain "text"``). The names
below are the ones the rest of the code imports.
"""

from .engine import ACTION_INTENTS, DEFAULT_VOCABULARY, INTENTS, read_as, understand
from .normalise import MAX_CHARS
from .rules import ROWS, RULES, Row, Rule
from .understanding import IntentResult, NluContext, Understanding
from .vocabulary import Vocabulary

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
