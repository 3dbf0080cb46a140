"""Cutting a message into clauses: at sentence punctuation, commas and conjunctions; a piece that does not
start a new action on its own ("... and 1 hoodie", "..., Austin, TX 78701") is glued back to the one before
it, so "add 2 running shoes and 1 hoodie" stays one request and "remove the socks and show my cart" is two."""

from __future__ import annotations

import re

from ..nlu_lexicon import (
    FILLER_PREFIXES,
)
from .classify import Classifier
from .rules import fill
from .understanding import _Clause

# --- clause handling ------------------------------------------------------------------------------------

_SPLIT_RE = re.compile(
    r"(\s*[;!?]+\s*|\.(?=\s|$)\s*|\s*,\s*|\s+(?:and then|and also|then|also|plus|and|but|after that"
    r"|as well as)\s+)"
)
_FILLER_RE = re.compile(
    r"^(?:" + "|".join(re.escape(f) for f in sorted(FILLER_PREFIXES, key=len, reverse=True)) + r")\b[\s,!.]*"
)
_I_WANT_TO = re.compile(
    r"^(?:i'd like to|i would like to|i want to|i need to|i'd love to|i'm trying to|i am trying to|i wish to|"
    r"i'm going to|i am going to|i'd like you to|can i|could i|may i|let me|i'll)\s+"
    r"(?=add|remove|delete|check out|checkout|cancel|return|apply|use|see|view|place|change|update|clear"
    r"|empty|"
    r"track|talk|speak|close|buy|order|purchase|pay|get a refund|find|search|browse|look)"
)
# After "add ..." or "remove ...", a piece opening like a noun phrase ("... and a backpack to my basket")
# is another item of the same request, even if it contains words ("to my basket") that could start one.
_REPEATABLE = frozenset(
    {"add_to_cart", "search_and_add_to_cart", "remove_from_cart", "product_search", "save_preference"}
)
_ITEM_INTENTS = frozenset({"add*", "remove*", "adjust*", "product_search", "fallback*"})
_NP_OPENER = re.compile(
    fill(
        r"^(?:\d+|a|an|the|some|one|two|three|four|five|six|a pair|a couple|pairs?|another|my|those|these"
        r"|{COLOR})\b"
    )
)
_LEADING_YES_NO = re.compile(
    r"^(yes|yeah|yep|ok|okay|sure|no|nope|nah)\s+(?!more\b|less\b|longer\b|one\b|need\b)"
)


def _strip_filler(clause: str) -> str:
    prev = None
    while prev != clause:
        prev = clause
        stripped = _FILLER_RE.sub("", clause, count=1).strip()
        if stripped:
            clause = stripped
        stripped = _I_WANT_TO.sub("", clause, count=1).strip()
        if stripped:
            clause = stripped
    return clause


class ClauseSplitter(Classifier):
    """Cuts the message into clauses, asking the classifier whether a piece starts an action of its own."""

    text: str
    cased: str

    # -- splitting --

    def clauses(self) -> list[_Clause]:
        parts = _SPLIT_RE.split(self.text)
        cased_parts = _SPLIT_RE.split(self.cased.lower()) if len(self.cased) == len(self.text) else None
        pieces: list[tuple[str, str, str]] = []  # (text, separator before, cased text)
        sep = ""
        offset = 0
        for i, part in enumerate(parts):
            if i % 2 == 1:
                sep = part
                offset += len(part)
                continue
            cased = self.cased[offset : offset + len(part)] if cased_parts is not None else part
            offset += len(part)
            if part.strip():
                pieces.append((part, sep, cased))
            elif pieces and sep.strip() in {"?", "!", "."}:
                pieces[-1] = (pieces[-1][0] + sep.strip(), pieces[-1][1], pieces[-1][2])
        groups: list[list[tuple[str, str, str]]] = []
        group_intent = ""
        for piece in pieces:
            clause = self._make_clause(piece[0], piece[2])
            reading = self._read(clause)
            continues_items = (
                group_intent in _ITEM_INTENTS
                and piece[1].strip() in {"and", ",", "plus", "&"}
                and bool(_NP_OPENER.match(clause.raw))
            )
            if groups and (not reading.strong or continues_items):
                groups[-1].append(piece)
            else:
                groups.append([piece])
                group_intent = reading.intent
        clauses: list[_Clause] = []
        for group in groups:
            text = group[0][0] + "".join(sep + t for t, sep, _ in group[1:])
            cased = group[0][2] + "".join(sep + c for _, sep, c in group[1:])
            clauses.extend(self._split_leading_yes_no(self._make_clause(text, cased)))
        return clauses

    def _split_leading_yes_no(self, clause: _Clause) -> list[_Clause]:
        m = _LEADING_YES_NO.match(clause.text)
        if m is None:
            return [clause]
        rest = self._make_clause(clause.text[m.end() :], clause.cased[m.end() :])
        if not self._read(rest).strong:
            return [clause]
        return [self._make_clause(m.group(1), m.group(1)), rest]

    def _make_clause(self, text: str, cased: str) -> _Clause:
        raw = " ".join(text.split())
        question = raw.endswith("?")
        raw = raw.rstrip("?!. ")
        stripped = _strip_filler(raw)
        cut = len(raw) - len(stripped)
        cased_clean = " ".join(cased.split()).rstrip("?!. ")
        return _Clause(
            stripped, raw, cased_clean[cut:] if len(cased_clean) == len(raw) else cased_clean, question
        )
