"""Text -> Understanding: rule-based, no network, well under a millisecond per message.

The pipeline, in order (each step its own module):

1. ``normalise``: Unicode and whitespace cleanup, chat shorthand ("u" -> "you"), lower case, and typos
   a single edit away from a store word or an intent keyword corrected ("runing shoes", "chekout"); the
   message as typed is kept for addresses (so "Austin" keeps its capital) and codes.
2. ``clauses``: the message is cut at sentence punctuation, commas and conjunctions; a piece that does
   not start a new action on its own ("... and 1 hoodie") is glued back to the one before it.
3. ``classify``: the whole-clause checks (yes/no, greetings, help), then the table of ``rules.py``: the
   first row whose patterns match, and no ``unless`` pattern vetoes, names the clause's intent.
4. Here: a few families are resolved by small functions (``_resolve_add`` picks add_to_cart,
   search_and_add_to_cart or add_multiple_to_cart from the slots), and the readings of the clauses
   are put together (politeness dropped, one request said twice merged).
5. ``slots``: the slots of each reading (``nlu_slots`` extractors, each consuming the words it used).

Unknown or off-topic text gets the distinct intent ``out_of_scope`` (never ``general_question``, which
means a store-policy question the assistant answers). The planner must not act on ``out_of_scope``.
A bare slot answer while a clarification is pending ("medium", "the second one") is ``provide_info``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from voice.scripts import CODE_ALPHABET, RECOVERY_CODE_LENGTH

from .. import nlu_slots as S
from ..intents import INTENT_NAMES, WRITE_INTENTS
from ..nlu_lexicon import (
    NUMBER_WORDS,
    words,
)
from .classify import _QUESTION_START, _REACTION
from .clauses import _REPEATABLE, ClauseSplitter
from .normalise import _correct, _normalize
from .rules import PLACEHOLDERS
from .slots import _SLOTS_BY_INTENT, _STOP, SlotReader, _content_words
from .understanding import IntentResult, NluContext, Understanding, _Clause, _Reading
from .vocabulary import Vocabulary, _has_product

# Intents that change something (cart, order, ticket, memory) and all intents: from the one table
# (``intents.SPECS``); the evaluation's off-topic check uses the first.
ACTION_INTENTS = WRITE_INTENTS
INTENTS = INTENT_NAMES
_CART = PLACEHOLDERS["CART"]

_RECOVERY_CODE = rf"[{CODE_ALPHABET.lower()}]{{{RECOVERY_CODE_LENGTH}}}"
_RECOVERY_NAMED = re.compile(
    rf"\brecovery code\b(?:\s+(?:is|was))?\s*[:=-]?\s*\"?(?P<code>{_RECOVERY_CODE})\b"
)
_RECOVERY_SAID = re.compile(
    r"(?:(?:hi|hello|hey|ok|okay|yes|so|right)[,!.]*\s+)?"
    r"(?:(?:here's|heres|here is|this is|it's|it is|i have|i've got|i got|got)\s+)?"
    r"(?:(?:my|the|a|your|our)\s+)?code"
    r"(?:\s+(?:from|on|in)\s+(?:the|your|my|our)\s+(?:phone\s+)?call)?(?:\s+(?:is|was))?\s*[:=-]?\s*"
    rf"\"?(?P<code>{_RECOVERY_CODE})\"?(?:\s+please)?"
)
_BARE_CODE = re.compile(rf"\"?(?P<code>{_RECOVERY_CODE})\"?")
_MARKUP = re.compile(r"<\s*/?\s*[a-z!][^>]{0,200}>|javascript:|\bon[a-z]+\s*=", re.IGNORECASE)


class _Parser(ClauseSplitter, SlotReader):
    def __init__(self, text: str, context: NluContext) -> None:
        self.context = context
        self.vocab = context.vocabulary or DEFAULT_VOCABULARY
        self.index = self.vocab._index
        self.cased = _normalize(text)
        lower = self.cased.lower()
        self.text, self.corrections = _correct(lower, self.cased, self.index.corrector)
        self._readings: dict[tuple[str, str, bool], _Reading] = {}

    # -- the whole message --

    def understand(self) -> Understanding:
        if _MARKUP.search(self.cased):
            # HTML or script in a chat message: refused outright rather than searched for
            refused = IntentResult("out_of_scope", {"refused": "markup"}, 0.95, self.text)
            return Understanding([refused], 0.95, self.text, dict(self.corrections))
        recovery = self._recovery_code()
        if recovery is not None:
            return Understanding([recovery], recovery.confidence, self.text, dict(self.corrections))
        results: list[IntentResult] = []
        for clause in self.clauses():
            reading = self._read(clause)
            results.extend(self._resolve(clause, reading))
        results = self._post_process(results)
        confidence = min(r.confidence for r in results)
        return Understanding(results, round(confidence, 3), self.text, dict(self.corrections))

    def _recovery_code(self) -> IntentResult | None:
        """The recovery code said on our phone call, typed back: "my code is 4F7K2Q", "here's my
        recovery code 4f7k2q", or (when the pipeline confirms it is a live code) the bare code. "apply
        code SAVE10" stays a discount code; so does "my code is SAVE25" when no such recovery code exists."""
        text = self.text.rstrip(" .!?")
        named = _RECOVERY_NAMED.search(text)
        if named is not None:
            return IntentResult("redeem_recovery_code", {"code": named.group("code").upper()}, 0.9, text)
        known = self.context.recovery_code_known
        said = _RECOVERY_SAID.fullmatch(text)
        if said is not None:
            code = said.group("code").upper()
            if known is None or known(code):
                return IntentResult("redeem_recovery_code", {"code": code}, 0.85, text)
            return None
        bare = _BARE_CODE.fullmatch(text)
        if bare is not None and known is not None and self.context.pending_clarification is None:
            code = bare.group("code").upper()
            # a plain word ("thanks", "hoodie") is never taken for a code unless typed in capitals
            looks_like_code = S.looks_like_code(code) or self.cased.strip(' .!?"').isupper()
            if looks_like_code and known(code):
                return IntentResult("redeem_recovery_code", {"code": code}, 0.85, text)
        return None

    def _post_process(self, results: list[IntentResult]) -> list[IntentResult]:
        if not results:
            return [IntentResult("out_of_scope", {}, 0.9, self.text)]
        refused = [r for r in results if r.slots.get("refused")]
        if refused:
            return refused[:1]
        # a greeting or an acknowledgement in front of a request is politeness, not a request
        if len(results) > 1:
            kept = [
                r
                for r in results
                if not (
                    r.name == "greeting"
                    or (r.name == "confirm" and not self.context.pending_confirmation and r.confidence < 0.9)
                    # "no thanks, I don't want it": the no is the reason, said twice
                    or (
                        r.name == "deny"
                        and not self.context.pending_confirmation
                        and any(o.name == "abandonment_reason" for o in results)
                    )
                )
            ]
            # "oh, thanks", "hello, friend": small talk next to words that mean nothing is still small talk
            if all(r.name == "out_of_scope" and not r.slots for r in kept):
                kept = [r for r in results if r.name == "greeting"][:1] or kept
            results = kept or results[:1]
        # "I like Stride, remember that": the bare "remember that" is the same request, not another
        saves = [r for r in results if r.name == "save_preference"]
        if len(saves) > 1 and any(r.slots for r in saves):
            results = [r for r in results if r.name != "save_preference" or r.slots]
        merged: list[IntentResult] = []
        for r in results:
            if (
                merged
                and merged[-1].name == r.name
                and r.name not in _REPEATABLE
                and all(merged[-1].slots.get(k) in (None, v) for k, v in r.slots.items() if k != "reference")
            ):
                # "I don't want my order anymore, please cancel it": one request said twice
                prev = merged[-1]
                merged[-1] = IntentResult(
                    prev.name, {**r.slots, **prev.slots}, max(prev.confidence, r.confidence), prev.text
                )
                continue
            if merged and merged[-1].name == "deny" and r.name == "cancel_order" and not r.slots:
                continue  # "no, cancel" is one refusal
            if (
                merged
                and merged[-1].name == "product_search"
                and r.name == "add_to_cart"
                and not r.slots.get("product")
                and (
                    r.slots.get("reference")
                    or r.slots.get("ordinal")
                    or r.slots.get("sort")
                    or "quantity" in r.slots
                )
            ):
                # "find running shoes and add the cheapest one": one search-then-add step
                search = merged.pop()
                slots = {**search.slots, **r.slots}
                slots.pop("reference", None)
                merged.append(
                    IntentResult(
                        "search_and_add_to_cart", slots, min(search.confidence, r.confidence), search.text
                    )
                )
                continue
            merged.append(r)
        if len(merged) > 1:
            # several clauses: an off-topic piece next to real requests is noise, not a reason to refuse
            on_topic = [r for r in merged if r.name != "out_of_scope"]
            merged = on_topic or merged[:1]
        return merged

    # -- resolvers --

    def _resolve(self, clause: _Clause, reading: _Reading) -> list[IntentResult]:
        name = reading.intent
        if name.startswith("refuse:"):
            return [
                IntentResult(
                    "out_of_scope", {"refused": name.split(":", 1)[1]}, reading.confidence, clause.text
                )
            ]
        resolver = _RESOLVERS.get(name)
        if resolver is not None:
            return resolver(self, clause, reading)
        slots = self._slots_for(name, clause)
        return [self._result(name, slots, reading.confidence, clause)]

    def _result(self, name: str, slots: dict[str, Any], confidence: float, clause: _Clause) -> IntentResult:
        allowed = _SLOTS_BY_INTENT.get(name)
        if allowed is not None:
            slots = {k: v for k, v in slots.items() if k in allowed}
        if name == "order_status" and len(slots.get("order_ids", ())) > 1:
            name = "multi_status"
        penalty = 0.03 * sum(
            1
            for wrong in self.corrections
            if re.search(rf"\b{re.escape(self.corrections[wrong])}\b", clause.text)
        )
        confidence = max(0.05, min(1.0, confidence - penalty))
        return IntentResult(name, slots, round(confidence, 3), clause.text)


# --- resolvers for rule families ------------------------------------------------------------------------


def _item_parts(p: _Parser, text: str) -> list[str]:
    """Split "2 running shoes and 1 hoodie" into item phrases; a piece without a product of its own
    ("black and white sneakers") belongs to its neighbour."""
    pieces = [x for x in re.split(r"\s*(?:,|\band\b|\bplus\b|&(?! co))\s*", text) if x.strip()]
    parts: list[str] = []
    carry = ""
    for piece in pieces:
        if _has_product(piece, p.index) or re.search(r"\b(?:it|them|that|this|one)\b", piece):
            parts.append((carry + " " + piece).strip())
            carry = ""
        elif parts and not carry:
            parts[-1] = parts[-1] + " and " + piece
        else:
            carry = (carry + " " + piece).strip()
    if carry:
        if parts:
            parts[-1] += " " + carry
        else:
            parts.append(carry)
    return parts


_ADD_VERB = re.compile(
    r"^(?:add|put|throw|toss|stick|pop|include|grab|buy|purchase|order|get me|get|give me|send me|i'll take"
    r"|i will take|"
    r"i'll have|i'll get|can i get|could i get|may i have|can i have|could i have|i want|i need|i'd like"
    r"|i would like)\b(?:\s+me\b)?"
)
_WANT_VERB = re.compile(r"^(?:i want|i need|i'd like|i would like|i wanna)\b")


def _resolve_add(p: _Parser, clause: _Clause, reading: _Reading) -> list[IntentResult]:
    text = clause.text
    want_only = bool(_WANT_VERB.match(text)) and not re.search(
        rf"\b(?:{_CART[3:-1]}|buy|order|purchase)\b", text
    )
    body = _ADD_VERB.sub("", text, count=1).strip()
    parts = _item_parts(p, body) if body else []
    if len(parts) > 1:
        items = []
        for part in parts:
            sub = _Clause(part, part, part, False)
            item = p._commerce_slots(sub)
            items.append(item)
        if sum(1 for it in items if it.get("product") or it.get("category") or it.get("brand")) >= 2:
            return [p._result("add_multiple_to_cart", {"items": items}, reading.confidence, clause)]
    slots = p._commerce_slots(clause)
    described = bool(slots.get("product") or slots.get("category") or slots.get("brand"))
    referenced = "reference" in slots or "ordinal" in slots
    if want_only and not referenced and "quantity" not in slots:
        # "I need running shoes" is browsing, not buying
        if described:
            return [p._result("product_search", slots, 0.8, clause)]
        return [p._result("out_of_scope", {}, 0.5, clause)]
    if not _about_the_store(p, clause, slots):
        # "add milk to my grocery list": nothing the store sells, no cart, no earlier result
        return [p._result("out_of_scope", {}, 0.6, clause)]
    if described and not referenced:
        return [p._result("search_and_add_to_cart", slots, reading.confidence, clause)]
    if described and referenced and not _has_product(clause.text, p.index):
        slots.pop("product", None)
    return [p._result("add_to_cart", slots, reading.confidence, clause)]


def _resolve_remove(p: _Parser, clause: _Clause, reading: _Reading) -> list[IntentResult]:
    body = re.sub(
        r"^(?:remove|delete|drop|ditch|discard|get rid of|take out|take off|throw out|toss out|take)\b",
        "",
        clause.text,
    ).strip()
    parts = _item_parts(p, body) if body else []
    results = []
    if len(parts) > 1:
        for part in parts:
            slots = p._commerce_slots(_Clause(part, part, part, False))
            results.append(p._result("remove_from_cart", slots, reading.confidence, clause))
        return results
    slots = p._commerce_slots(clause)
    if not _about_the_store(p, clause, slots):
        return [p._result("out_of_scope", {}, 0.6, clause)]  # "remove the meeting from my calendar"
    return [p._result("remove_from_cart", slots, reading.confidence, clause)]


_DECREASE = re.compile(
    r"\btake\b.*\bout\b|\b(?:decrease|reduce|lower|lessen|decrement|halve|remove|take out|take off|drop"
    r"|delete|minus|subtract|take away|less|fewer)\b"
)


def _about_the_store(p: _Parser, clause: _Clause, slots: dict[str, Any]) -> bool:
    """Whether a cart request names something of ours: a product, the cart, or an earlier result
    ("it", "the second one") without a pile of other nouns ("get me the scores from last night")."""
    if _has_product(clause.text, p.index) or re.search(rf"\b{_CART}\b", clause.text):
        return True
    if slots.keys() & {"size", "brand", "category"}:  # a colour alone is not enough: "olive garden"
        return True
    others = (slots.get("product") or "").split()
    if slots.keys() & {"reference", "ordinal"}:
        return len(others) <= 1
    return not others


# Words that only say "for me, now" in a recommendation request ("got any picks for me today?").
_RECOMMEND_STOP = words("picks ideas idea today tonight lately these days this week season right now")


def _resolve_recommend(p: _Parser, clause: _Clause, reading: _Reading) -> list[IntentResult]:
    slots = p._commerce_slots(clause)
    leftover = [w for w in (slots.get("product") or "").split() if w not in _RECOMMEND_STOP]
    if not leftover:
        slots.pop("product", None)
    if (
        leftover
        and not _has_product(clause.text, p.index)
        and not slots.keys() & {"brand", "category", "style"}
    ):
        return [p._result("out_of_scope", {}, 0.7, clause)]  # "can you recommend a good movie"
    return [p._result("recommend", slots, reading.confidence, clause)]


def _resolve_update(p: _Parser, clause: _Clause, reading: _Reading) -> list[IntentResult]:
    slots = p._commerce_slots(clause)
    if not (slots.keys() & {"quantity", "size", "color"}) or not _about_the_store(p, clause, slots):
        return [
            p._result("out_of_scope", {}, 0.6, clause)
        ]  # "make a list of goals", "switch to low power mode"
    return [p._result("update_cart", slots, reading.confidence, clause)]


def _resolve_adjust(p: _Parser, clause: _Clause, reading: _Reading) -> list[IntentResult]:
    text = clause.text
    slots = p._commerce_slots(clause)
    if not _about_the_store(p, clause, slots):
        return [p._result("out_of_scope", {}, 0.6, clause)]
    m = re.search(r"\bto\s+(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")\b(?!\s*(?:dollars|\$))", text)
    if m and re.search(r"\b(?:increase|decrease|reduce|lower|raise|bump|up the)\b", text):
        # "reduce the socks to 1" sets the quantity
        slots.pop("quantity_delta", None)
        slots["quantity"] = S.word_to_int(m.group(1))
        return [p._result("update_cart", slots, reading.confidence, clause)]
    if re.search(r"\bdouble\b", text):
        slots["quantity_factor"] = 2
        slots.pop("quantity_delta", None)
        return [p._result("adjust_cart_quantity", slots, reading.confidence, clause)]
    delta = slots.pop("quantity_delta", None)
    if delta is None:
        by, _ = S.take_by_amount(text)
        delta = by or slots.get("quantity") or 1
    slots.pop("quantity", None)
    if _DECREASE.search(text) and delta > 0:
        delta = -delta
    slots["quantity_delta"] = delta
    return [p._result("adjust_cart_quantity", slots, reading.confidence, clause)]


def _resolve_cancel(p: _Parser, clause: _Clause, reading: _Reading) -> list[IntentResult]:
    text = clause.text
    pending = p.context.pending_confirmation
    bare = re.fullmatch(r"(?:cancel|call off|abort)(?: (?:it|that|this|that please|please|it please))?", text)
    if bare and (pending or not re.search(r"\bit\b", text)):
        return [p._result("deny", {}, 0.95 if pending else 0.65, clause)]
    slots = p._commerce_slots(clause, with_product=False)
    slots = {k: v for k, v in slots.items() if k in {"order_id", "order_ids", "reference", "ordinal"}}
    if (
        re.search(r"\b(?:order|orders|purchase|it|them|that|this|last one)\b", text)
        or "order_id" in slots
        or "order_ids" in slots
    ):
        if "order_ids" in slots:
            return [
                p._result("cancel_order", {"order_id": oid}, reading.confidence, clause)
                for oid in slots["order_ids"]
            ]
        confidence = reading.confidence if not (pending and not slots) else 0.7
        return [p._result("cancel_order", slots, confidence, clause)]
    if _has_product(text, p.index):
        return _resolve_remove(p, clause, reading)
    # "cancel my gym membership": not ours to cancel
    return [p._result("out_of_scope", {}, 0.7, clause)]


def _resolve_exchange(p: _Parser, clause: _Clause, reading: _Reading) -> list[IntentResult]:
    if re.search(r"\b(?:rates?|currency|dollars?|euros?|pesos?|pounds|yen|stocks?|money)\b", clause.text):
        return [p._result("out_of_scope", {}, 0.7, clause)]
    if _QUESTION_START.match(clause.text) and not re.search(
        r"\b(?:my|these|this|those|them|it)\b|\d", clause.text
    ):
        return [p._result("general_question", {"topic": "returns"}, 0.75, clause)]
    slots = p._support_slots(clause)
    slots["subject"] = "exchange"
    return [p._result("support_escalation", slots, 0.8, clause)]


def _resolve_reaction(p: _Parser, clause: _Clause, reading: _Reading) -> list[IntentResult]:
    """Liking or disliking the thing on screen: nothing to act on or remember (the pipeline answers)."""
    m = _REACTION.match(clause.text)
    verb = m.group("verb") if m else "like"
    liked = verb in ("like", "love", "adore", "dig")
    slots = {"reaction": "like" if liked else "dislike"}
    return [p._result("out_of_scope", slots, reading.confidence, clause)]


def _resolve_fallback(p: _Parser, clause: _Clause, reading: _Reading) -> list[IntentResult]:
    """No rule matched: a bare product ("black hoodies"), a bare slot ("size 10", "the second one"),
    or something off-topic."""
    slots = p._commerce_slots(clause)
    pending = p.context.pending_clarification
    informative = {k: v for k, v in slots.items() if k != "product"}
    if pending == "size" and "size" not in slots:
        # the answer to "Which size? In stock: S, M, L" is often the bare letter
        m = re.fullmatch(
            r"(?:an? |in |size )?(xxs|xs|s|m|l|xl|xxl|xxxl)(?: please)?[.!]?", clause.text.strip()
        )
        if m:
            slots = {"size": m.group(1).upper()}
            informative = slots
    if pending and (informative or slots.get("product")):
        return [p._result("provide_info", slots, 0.85, clause)]
    if _has_product(clause.text, p.index):
        return [p._result("product_search", slots, 0.75, clause)]
    refinement = slots.keys() & {"size", "color", "min_price", "max_price", "sort", "style"}
    if refinement and len(_content_words(clause.text, _STOP)) <= 2 and not _QUESTION_START.match(clause.text):
        return [p._result("product_search", slots, 0.6, clause)]  # refining the last search: "in black"
    if slots.keys() & {"ordinal", "reference"} and len(_content_words(clause.text, _STOP)) <= 1:
        return [p._result("provide_info", slots, 0.6, clause)]
    if "order_id" in slots and len(clause.text.split()) <= 3:
        return [p._result("order_status", slots, 0.7, clause)]
    if "code" in slots:
        return [p._result("apply_discount", slots, 0.6, clause)]
    return [p._result("out_of_scope", {}, 0.9 if not slots else 0.6, clause)]


_RESOLVERS: dict[str, Callable[[_Parser, _Clause, _Reading], list[IntentResult]]] = {
    "add*": _resolve_add,
    "remove*": _resolve_remove,
    "adjust*": _resolve_adjust,
    "update_cart": _resolve_update,
    "recommend": _resolve_recommend,
    "cancel*": _resolve_cancel,
    "support_exchange*": _resolve_exchange,
    "reaction*": _resolve_reaction,
    "fallback*": _resolve_fallback,
}


# --- entry point ----------------------------------------------------------------------------------------

DEFAULT_VOCABULARY = Vocabulary()


def read_as(text: str, intent: str, *, confidence: float) -> Understanding:
    """The message read as ``intent`` -- chosen elsewhere (a model's classification) -- with the slots
    the rules find for that intent in the whole text."""
    parser = _Parser(text, NluContext())
    clause = parser._make_clause(parser.text, parser.cased)
    result = IntentResult(intent, parser._slots_for(intent, clause), confidence, text)
    return Understanding([result], confidence, parser.text, dict(parser.corrections))


def understand(text: str, *, context: NluContext | Mapping[str, Any] | None = None) -> Understanding:
    """Read one message. Never raises on odd input: empty or unreadable text is ``out_of_scope``."""
    if isinstance(context, Mapping):
        context = NluContext.from_state(context)
    context = context or NluContext()
    if not isinstance(text, str) or not text.strip():
        return Understanding([IntentResult("out_of_scope", {}, 0.9, "")], 0.9, "")
    return _Parser(text, context).understand()
