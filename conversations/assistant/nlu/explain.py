"""Why a message was read as it was: the normalised text, each clause's row, and why the rows before
it did not read it (``python manage.py nlu_explain "text"``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .engine import _Parser
from .understanding import NluContext, Trace, Understanding


@dataclass(frozen=True)
class ClauseExplanation:
    text: str  # the clause as the rows see it: lower case, corrected, filler stripped
    reading: str  # the row's intent (a family like "add*" before its resolver settles it)
    confidence: float
    rows: Trace  # every row tried, in order, with why it did not read the clause or what it read


@dataclass(frozen=True)
class Explanation:
    normalized_text: str
    corrections: dict[str, str]
    clauses: list[ClauseExplanation]
    understanding: Understanding


def explain(text: str, *, context: NluContext | Mapping[str, Any] | None = None) -> Explanation:
    """The same reading ``understand`` makes, with the trace of the table for each clause."""
    if isinstance(context, Mapping):
        context = NluContext.from_state(context)
    parser = _Parser(text, context or NluContext())
    understanding = parser.understand()
    clauses: list[ClauseExplanation] = []
    for clause in parser.clauses():
        trace: Trace = []
        reading = parser._read_uncached(clause, trace)
        clauses.append(ClauseExplanation(clause.text, reading.intent, reading.confidence, trace))
    return Explanation(understanding.normalized_text, dict(understanding.corrections), clauses, understanding)


def format_explanation(explanation: Explanation) -> str:
    lines = [f"normalised: {explanation.normalized_text!r}"]
    if explanation.corrections:
        lines.append("corrected: " + ", ".join(f"{k} -> {v}" for k, v in explanation.corrections.items()))
    for number, clause in enumerate(explanation.clauses, start=1):
        lines.append(f"clause {number}: {clause.text!r} -> {clause.reading} ({clause.confidence})")
        for label, intent, why in clause.rows:
            kind = "check" if label.startswith("c") else "row"
            lines.append(f"  {kind} {label.lstrip('c'):>2} {intent:24} {why}")
        if clause.rows and not clause.rows[-1][2].startswith("READ"):
            lines.append("  no row read it: the fallback decides (a bare slot, a question, or out of scope)")
    lines.append("understood:")
    for result in explanation.understanding.intents:
        lines.append(f"  {result.name} confidence {result.confidence} slots {result.slots}")
    return "\n".join(lines)
