"""Reading one clause: the whole-clause checks (yes/no, greetings, thanks, help, small talk), then the
table of ``rules.py``, first row that reads it wins. Outside phrasings in the looser checks were tuned on
CLINC150's train and val splits only, never its test split (docs/assistant-nlu.md)."""

from __future__ import annotations

import re

from ..intents import WRITE_INTENTS
from ..nlu_lexicon import (
    OFF_TOPIC_PHRASES,
    QUESTION_TOPICS,
    SUPPORT_SUBJECTS,
)
from .checks import ACTION_WORDS, ASK_SHAPE, CHECKS, CONFIRM_STRONG, THANKS_WORDS, Check
from .rules import ORDER_ASKED as _ORDER_ASKED
from .rules import QUESTION_START, RULES, Rule
from .understanding import NluContext, Trace, _Clause, _Reading
from .vocabulary import _has_product, _VocabIndex

_TOPIC_RES = tuple((re.compile(rf"\b{re.escape(word)}"), topic) for word, topic in QUESTION_TOPICS)
_SUBJECT_RES = tuple((re.compile(rf"\b{re.escape(p)}\b"), subject) for p, subject in SUPPORT_SUBJECTS)
_QUESTION_START = re.compile(QUESTION_START)
# "I like this hoodie", "I love it", "I hate the second one": a reaction to a product on screen, not a
# preference to keep -- storing "likes hoodies" from it would be a guess the shopper never asked for.
_REACTION = re.compile(
    r"^(?:i|we) (?:really |also |do |kinda |kind of |absolutely |totally |just |quite )?"
    r"(?P<verb>like|love|adore|dig|hate|dislike|(?:don't|do not|really don't) (?:like|love)|can't stand"
    r"|cannot stand)\s+"
    r"(?:it|this|that|these|those|them|(?:this|that|these|those) \w+(?: \w+)?"
    r"|the (?:first|second|third|fourth|fifth|last|other)(?: ones?)?|the (?:\w+ )?ones?)"
    r"(?: (?:a lot|very much|so much|too|though|actually))?[.!]*$"
)


# Rule families that change something: off-topic nouns turn them away (``OFF_TOPIC_PHRASES``).
_GUARDED = WRITE_INTENTS | {"add*", "remove*", "adjust*", "cancel*", "support_exchange*"}
_OFF_TOPIC = re.compile(
    r"\b(?:" + "|".join(re.escape(p) for p in sorted(OFF_TOPIC_PHRASES, key=len, reverse=True)) + r")\b"
)


_TRAILING_POLITENESS = re.compile(r"[\s,]+(?:thanks|thank you|please|mate|buddy|pal)$")


class Classifier:
    """Reads a clause as one intent (or a family a resolver settles); the engine's parser is one."""

    context: NluContext
    index: _VocabIndex
    _readings: dict[tuple[str, str, bool], _Reading]

    # -- reading one clause --

    def _read(self, clause: _Clause) -> _Reading:
        key = (clause.text, clause.raw, clause.question)
        reading = self._readings.get(key)
        if reading is None:
            reading = self._readings[key] = self._read_uncached(clause)
        return reading

    @staticmethod
    def _traced(trace: Trace | None, rule: Rule, found: int, reading: _Reading, why: str) -> _Reading:
        if trace is not None:
            read = f"READ: pattern {found + 1} matched" + (f"; {why}" if why else "")
            trace.append((str(rule.number), rule.intent, read))
        return reading

    def _read_uncached(self, clause: _Clause, trace: Trace | None = None) -> _Reading:
        text, raw = clause.text, clause.raw
        pending = self.context.pending_confirmation
        # "not now thanks", "yes please": politeness after a yes or no does not change it
        said = _TRAILING_POLITENESS.sub("", raw) or raw
        quiet = not ACTION_WORDS.search(raw)
        for number, check in enumerate(CHECKS, start=1):
            misses = _check_misses(check, clause, said, quiet)
            if misses:
                if trace is not None:
                    trace.append((f"c{number}", check.intent, f"{check.name!r}: {misses}"))
                continue
            reading = _refined(check, text, said, pending)
            if trace is not None:
                trace.append((f"c{number}", check.intent, f"READ: {check.name!r} -> {reading.intent}"))
            return reading
        for rule in RULES:
            found = rule.matching_pattern(text) if trace is not None else (0 if rule.matches(text) else None)
            if found is None:
                _skipped(trace, rule, "no pattern matched")
                continue
            vetoed = rule.vetoed_by(text)
            if vetoed is not None:
                _skipped(trace, rule, f"pattern {found + 1} matched, unless {vetoed + 1} vetoed it")
                continue
            if rule.intent == "save_preference" and _REACTION.match(text):
                reading = _Reading("reaction*", 0.8, True)
                return self._traced(trace, rule, found, reading, "a reaction to a product")
            if rule.intent == "policy_question*":
                topic = self._policy_topic(text)
                if topic is None:
                    _skipped(trace, rule, f"pattern {found + 1} matched, no store-policy topic")
                    continue
                reading = _Reading("general_question", 0.8, True)
                return self._traced(trace, rule, found, reading, f"topic {topic}")
            if rule.intent in _GUARDED and _OFF_TOPIC.search(text) and not _has_product(text, self.index):
                # "add walnuts to my shopping list": nothing the store sells, something it does not
                reading = _Reading("out_of_scope", 0.6, True)
                return self._traced(trace, rule, found, reading, "turned away: an off-topic word, no product")
            return self._traced(trace, rule, found, _Reading(rule.intent, rule.confidence, True), "")
        if (clause.question or _QUESTION_START.match(text)) and (
            self._policy_topic(text, loose=True)
            or re.search(r"\b(?:you|your|this store|the store|here)\b", text)
        ):
            return _Reading("general_question", 0.6, True)
        return _Reading("fallback*", 0.0, False)

    def _policy_topic(self, text: str, loose: bool = False) -> str | None:
        """A question about store policy ("how do returns work?") rather than a request about the
        shopper's own order ("how do I return my jacket?", which is an action)."""
        if not loose and (
            re.search(
                r"\b(?:my|it|this|these|them|that one|order [a-z0-9]*\d)\b|\b(?:[a-z]*\d[a-z0-9]*)\b", text
            )
            or _ORDER_ASKED.search(text)  # "is the package delivered already": that parcel, not the policy
        ):
            return None
        for pattern, topic in _TOPIC_RES:
            if pattern.search(text):
                if not loose and topic in {"availability", "discounts"} and _has_product(text, self.index):
                    return None  # "do you have hoodies available?" is a search
                return topic
        return None


def _skipped(trace: Trace | None, rule: Rule, why: str) -> None:
    if trace is not None:
        trace.append((str(rule.number), rule.intent, why))


_CANCEL_ALONE = re.compile(r"(?:cancel|cancel it)")


def _check_misses(check: Check, clause: _Clause, said: str, quiet: bool) -> str:
    """Why ``check`` does not read the clause ("" when it does)."""
    if check.quiet and not quiet:
        return "skipped: the clause names something to act on"
    if check.asked and not (clause.question or ASK_SHAPE.search(said)):
        return "skipped: not a question"
    read = (
        any(p.search(said) for p in check.said)
        or any(p.search(clause.text) for p in check.text)
        or any(p.search(clause.raw) for p in check.typed)
    )
    if not read or not all(p.search(said) for p in check.also):
        return "no match"
    vetoed = next((i for i, p in enumerate(check.unless) if p.search(said)), None)
    return f"matched, unless {vetoed + 1} vetoed it" if vetoed is not None else ""


def _refined(check: Check, text: str, said: str, pending: bool) -> _Reading:
    """The check's reading; the two exact yes/no sets look closer at what was said."""
    confidence = check.pending_confidence if pending and check.pending_confidence else check.confidence
    if check.name == "no" and _CANCEL_ALONE.fullmatch(text) and not pending:
        return _Reading("cancel*", 0.7, True)  # "cancel" with nothing to say no to: cancel what?
    if check.name == "yes" and not pending:
        if THANKS_WORDS.search(said):
            return _Reading("greeting", 0.9, True)  # "thanks" is in the yes set too
        confidence = 0.8 if CONFIRM_STRONG.search(said) else check.confidence
    return _Reading(check.intent, confidence, True)
