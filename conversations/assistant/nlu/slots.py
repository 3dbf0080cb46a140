"""Slots per intent: the commerce slots (codes, order ids, prices, sort, size, ordinal, reference,
quantities, brand/category/colour/style, the product phrase), the memory slots, the support slots;
each extractor consumes the words it used (``nlu_slots``)."""

from __future__ import annotations

import re
from typing import Any

from .. import nlu_slots as S
from ..nlu_lexicon import (
    CATEGORY_SIZE_KIND,
    SIZE_KIND_WORDS,
    words,
)
from .checks import BYE_LOOSE, BYE_WORDS, CONFIRM_WORDS, THANKS_LOOSE, THANKS_WORDS
from .classify import _SUBJECT_RES, _TRAILING_POLITENESS, Classifier
from .understanding import _Clause
from .vocabulary import _WORD_RE, _Found, _scan_vocab

_REASONS = (
    ("shipping_cost", re.compile(r"\bshipping\b")),
    ("declined", re.compile(r"\b(?:don'?t|do not) want\b|\bnot interested\b")),
    ("undecided", re.compile(r"\bthink|\bsleep on\b|\bdecide\b|\bnot sure\b")),
    ("too_expensive", re.compile(r"\b(?:expensive|pricey|costly|afford)\b")),
)


def _abandonment_reason(text: str) -> str:
    """Which reason an ``abandonment_reason`` clause gives (the first that fits; shipping before price)."""
    return next((reason for reason, pattern in _REASONS if pattern.search(text)), "other")


_ORDER_SLOTS = frozenset({"order_id", "order_ids", "reference", "ordinal"})
_SLOTS_BY_INTENT: dict[str, frozenset[str]] = {
    "apply_discount": frozenset({"code"}),
    "checkout": frozenset(),
    "view_cart": frozenset(),
    "clear_cart": frozenset(),
    "order_status": _ORDER_SLOTS,
    "multi_status": _ORDER_SLOTS,
    "cancel_order": _ORDER_SLOTS,
    "request_refund": _ORDER_SLOTS | {"product", "category", "brand", "color", "quantity"},
    "change_order_address": _ORDER_SLOTS | {"address"},
    "recommend": frozenset(
        {"category", "brand", "color", "style", "size", "min_price", "max_price", "sort", "product"}
    ),
}


# --- helpers --------------------------------------------------------------------------------------------

_SORTS: tuple[tuple[str, str], ...] = (
    (
        r"\b(?:cheapest|least expensive|lowest price[sd]?|lowest priced|low to high|cheaper|budget"
        r"|most affordable|inexpensive|lowest first|cheapest first|by price(?! high| descending)"
        r"|price ascending)\b",
        "price_asc",
    ),
    (
        r"\b(?:most expensive|priciest|highest price[sd]?|highest priced|high to low|premium|pricier"
        r"|more expensive|highest first|priciest first|price descending)\b",
        "price_desc",
    ),
    (
        r"\b(?:newest|latest|new arrivals|most recent|just in|what's new|brand new|new in|recently added)\b",
        "newest",
    ),
)
_SORT_RES = tuple((re.compile(p), v) for p, v in _SORTS)


def _take_sort(text: str) -> tuple[str | None, str]:
    for pattern, value in _SORT_RES:
        m = pattern.search(text)
        if m:
            return value, S.mask(text, m.start(), m.end())
    return None, text


_STOP = words(
    """
    double increase decrease reduce raise bump lower halve more less fewer extra additional
    recommend recommends recommendation recommendations suggest suggests suggestion suggestions good nice
    think should pick choose wear style taste based preferences suit suits goes well what's whats surprise
    things thing i'd might
    show me find search for look looking browse display list see view get any some got have has do does
    you your sell carry stock i i'm am im we need want would like i'd to please can could may add put
    throw toss stick pop include grab buy purchase order take i'll have give into in to my the a an of
    cart basket bag shopping from remove delete out off drop rid with and or also too just only that
    which is are there something anything stuff items item one ones pair pairs more other few couple
    what's what about how instead it them this these those again now please quantity qty amount number
    size sizes color colors please thanks maybe kind sort type some new available in-stock stock me send
    maybe let ok okay so there's something's anything's options option price prices cost costs cheap
    under over between dollars bucks want wanna also really very good nice great color at on by as be
    will get for me rid don't not no make change set update switch instead back again same another which
    get ~
    """
)
_MEMORY_STOP = _STOP | words(
    """
    remember note save keep mind store record that like love prefer adore enjoy fancy dig hate dislike
    detest can't cannot stand avoid loathe fan big into usually normally typically always generally
    mostly wear take my favorite preferred don't never rarely hardly ever care i'm also really much
    kinda kind totally absolutely do wearing stuff things clothes anything everything something style
    styles brand brands colors stuff i we us please am is are was not too either things shoes tops
    bottoms waist size that's when it comes whatever budget range
    """
)
# sizes are read by _memory_sizes; they are never a brand, colour or style
_SIZE_WORDS = words("xxs xs s m l xl xxl xxxl small medium large extra")
_NEGATIVE = re.compile(
    r"\b(?:don't|do not|never|hate|dislike|detest|can't stand|cannot stand|avoid|loathe|not a fan|no fan"
    r"|not into|not|nor|"
    r"rarely|hardly|no more|no)\b"
)
_POSITIVE = re.compile(r"\b(?:like|love|prefer|adore|enjoy|fancy|dig|into|fan of)\b")


def _content_words(text: str, stop: frozenset[str]) -> list[str]:
    return [w for w in _WORD_RE.findall(text) if w not in stop and not w.isdigit() and not set(w) <= {"~"}]


def _product_phrase(text: str, found: _Found) -> str | None:
    """The words left once verbs, fillers and extracted slots are gone: "running shoes"."""
    for start, end, kind in sorted(found.spans, reverse=True):
        if kind in {"brand", "color"}:
            text = S.mask(text, start, end)
    words = _content_words(text, _STOP)
    return " ".join(words) or None


class SlotReader(Classifier):
    """The slots of one reading, by intent."""

    cased: str

    def _slots_for(self, name: str, clause: _Clause) -> dict[str, Any]:
        if name in {"save_preference"}:
            return self._memory_slots(clause)
        if name == "forget_preference":
            return self._forget_slots(clause)
        if name == "show_memory":
            return self._show_memory_slots(clause)
        if name == "clear_memory":
            return {"scope": self._memory_scope(clause.text)}
        if name in {"support_escalation", "support_status", "support_close"}:
            return self._support_slots(clause)
        if name == "general_question":
            topic = self._policy_topic(clause.text, loose=True)
            return {"topic": topic} if topic else {}
        if name in {"greeting"}:
            return {"kind": self._greeting_kind(clause.raw)}
        if name in {"help", "confirm", "deny", "out_of_scope"}:
            return {}
        if name == "abandonment_reason":
            return {"reason": _abandonment_reason(clause.text)}
        if name == "change_order_address":
            slots = self._commerce_slots(clause, with_product=False)
            address = S.take_address(clause.cased) or S.take_address(self.cased)
            if address:
                slots["address"] = address
            return {
                k: v
                for k, v in slots.items()
                if k in {"order_id", "order_ids", "address", "reference", "ordinal"}
            }
        return self._commerce_slots(clause)

    @staticmethod
    def _greeting_kind(raw: str) -> str:
        stripped = _TRAILING_POLITENESS.sub("", raw) or raw
        if BYE_WORDS.match(stripped) or BYE_LOOSE.match(raw):
            return "goodbye"
        if THANKS_WORDS.match(stripped) or CONFIRM_WORDS.match(stripped) or THANKS_LOOSE.match(raw):
            return "thanks"
        return "hello"

    # -- commerce slots --

    def _commerce_slots(self, clause: _Clause, *, with_product: bool = True) -> dict[str, Any]:
        text = clause.text
        slots: dict[str, Any] = {}
        code, text = S.take_discount_code(text, clause.cased, code_context=True)
        if code:
            slots["code"] = code
        ids, text = S.take_order_ids(text)
        if len(ids) == 1:
            slots["order_id"] = ids[0]
        elif ids:
            slots["order_ids"] = ids
        prices, text = S.take_prices(text)
        slots.update(prices)
        sort, text = _take_sort(text)
        if sort:
            slots["sort"] = sort
        found = _scan_vocab(text, self.index)
        shoe_context = any(CATEGORY_SIZE_KIND.get(c.lower()) == "shoes" for c in found.categories) or bool(
            re.search(r"\b(?:shoes?|sneakers?|trainers|boots|runners)\b", text)
        )
        size, kind, text = S.take_size(text, shoe_context=shoe_context)
        if size:
            slots["size"] = size
        ordinal, text = S.take_ordinal(text)
        if ordinal is not None:
            slots["ordinal"] = ordinal
        reference, text = S.take_reference(text)
        if reference:
            slots["reference"] = reference
        delta, text = S.take_delta(text)
        if delta is not None:
            slots["quantity_delta"] = delta
        quantity, text = S.take_quantity(text)
        if quantity is not None:
            slots["quantity"] = quantity
        found = _scan_vocab(text, self.index)
        if found.brands:
            slots["brand"] = found.brands[0]
        if found.categories:
            slots["category"] = found.categories[0]
        if found.colors:
            slots["color"] = found.colors[0]
            if len(found.colors) > 1:
                slots["colors"] = found.colors
        if found.styles:
            slots["style"] = found.styles[0]
        if with_product:
            product = _product_phrase(text, found)
            if product:
                slots["product"] = product
        return slots

    # -- memory slots --

    def _memory_slots(self, clause: _Clause) -> dict[str, Any]:
        slots: dict[str, Any] = {}
        text = clause.text
        prices, text = S.take_prices(text)
        if "max_price" in prices:
            slots["price_max"] = prices["max_price"]
        if "min_price" in prices:
            slots["price_min"] = prices["min_price"]
        polarity, stated = "like", False  # a like/dislike carries on: "I don't like Stride or Zara"
        unknown: dict[str, list[str]] = {"like": [], "dislike": []}
        for part in re.split(r"\s*(?:\bbut\b|;|,|\band\b|\bor\b|\bnor\b|\bexcept\b)\s*", text):
            if not part.strip():
                continue
            if _NEGATIVE.search(part):
                polarity, stated = "dislike", True
            elif _POSITIVE.search(part):
                polarity, stated = "like", True
            sizes_before = dict(slots.get("sizes", {}))
            self._memory_sizes(part, slots)
            found = _scan_vocab(part, self.index)
            sized = slots.get("sizes", {}) != sizes_before
            qualifiers = self._qualifying_categories(part, found, sized=sized)
            prefix = "" if polarity == "like" else "disliked_"
            for key, values in (
                ("brands", found.brands),
                ("colors", found.colors),
                ("categories", [c for c in found.categories if c not in qualifiers]),
                ("styles", found.styles),
            ):
                for v in values:
                    bucket = slots.setdefault(prefix + key, [])
                    if v not in bucket:
                        bucket.append(v)
            rest = part
            for start, end, _ in sorted(found.spans, reverse=True):
                rest = S.mask(rest, start, end)
            leftover = [w for w in _content_words(rest, _MEMORY_STOP) if w not in _SIZE_WORDS]
            if leftover and stated:
                unknown[polarity].append(" ".join(leftover))
        # words the vocabulary does not know, by polarity ("I don't like Pace": a dislike to place)
        if unknown["like"]:
            slots["unrecognized"] = unknown["like"]
        if unknown["dislike"]:
            slots["unrecognized_disliked"] = unknown["dislike"]
        return slots

    def _qualifying_categories(self, part: str, found: _Found, *, sized: bool) -> set[str]:
        """Categories that only say which size or brand is meant ("L in hoodies", "Denimworks for
        jeans", "my jeans size is 34"): not categories the shopper likes."""
        qualifiers: set[str] = set()
        for start, end, kind in found.spans:
            if kind == "category" and (sized or re.search(r"\b(?:for|in)\s+$", part[:start])):
                hit = self.index.phrases.get(" ".join(_WORD_RE.findall(part[start:end])))
                if hit is not None:
                    qualifiers.add(hit[1])
        return qualifiers

    def _memory_sizes(self, part: str, slots: dict[str, Any]) -> None:
        text = part
        while True:
            found = _scan_vocab(text, self.index)
            shoe = bool(re.search(r"\b(?:shoes?|sneakers?|trainers|boots|footwear)\b", text)) or any(
                CATEGORY_SIZE_KIND.get(c.lower()) == "shoes" for c in found.categories
            )
            size, kind, rest = S.take_size(text, shoe_context=shoe)
            if size is None:
                # "I wear 10.5 in shoes" / "I'm a 32 waist": a bare number next to a kind word
                m = re.search(r"\b(?:wear|take|am|i'm|is)\s+(?:a |an )?(\d{1,2}(?:\.5)?)\b", text)
                if m is None and self._size_kind(text):
                    m = re.search(r"(?<![\w.$])(\d{1,2}(?:\.5)?)(?![\w.%])", text)  # "32 for jeans"
                if m is None:
                    return
                size, kind, rest = m.group(1), None, S.mask(text, m.start(1), m.end(1))
            kind = kind or self._size_kind(text) or S.size_kind_for(size)
            slots.setdefault("sizes", {})[kind] = size
            text = rest

    def _size_kind(self, text: str) -> str | None:
        for c in _scan_vocab(text, self.index).categories:
            kind = CATEGORY_SIZE_KIND.get(c.lower())
            if kind:
                return kind
        for word in _WORD_RE.findall(text):
            if word in SIZE_KIND_WORDS:
                return SIZE_KIND_WORDS[word]
        return None

    def _forget_slots(self, clause: _Clause) -> dict[str, Any]:
        text = clause.text
        slots: dict[str, Any] = {}
        found = _scan_vocab(text, self.index)
        # "I don't like Stride any more" takes back a like; "forget that I don't like neon" a dislike
        disliked = bool(
            re.search(r"\b(?:dislike|dislikes|disliked|hate|don't like|do not like|avoid)\b", text)
        ) and not re.search(r"\b(?:don't|do not) (?:like|love|prefer)\b.*\bany ?more\b", text)
        key = None
        if re.search(r"\bsizes?\b|\bwaist\b", text):
            key = "sizes"
            kind = self._size_kind(text)
            if kind:
                slots["size_kind"] = kind
        elif re.search(r"\bbrands?\b", text) or found.brands:
            key = "dislikedBrands" if disliked else "brands"
            if found.brands:
                slots["value"] = found.brands[0]
        elif re.search(r"\bcolors?\b", text) or found.colors:
            key = "colors"
            if found.colors:
                slots["value"] = found.colors[0]
        elif re.search(r"\bstyles?\b|\bfit\b", text) or found.styles:
            key = "styles"
            if found.styles:
                slots["value"] = found.styles[0]
        elif re.search(r"\bcategor(?:y|ies)\b", text) or found.categories:
            key = "categories"
            if found.categories:
                slots["value"] = found.categories[0]
        elif re.search(r"\b(?:budget|price|prices|price range|spend)\b", text):
            key = "price"
        if key:
            slots["preference_key"] = key
        elif "value" not in slots:
            # a word the vocabulary does not know: "forget that I like Nike" (the memory app matches it)
            m = re.search(
                r"\bi (?:no longer |don't |do not )?(?:like|love|prefer|hate|dislike|wear)\s+(.+?)"
                r"(?:\s+any ?more)?[.!?]*$",
                clause.cased,
                re.IGNORECASE,
            )
            typed = re.findall(r"[\w&][\w&'-]*", m.group(1)) if m else []
            value = " ".join(w for w in typed if w.lower() not in _MEMORY_STOP and not w.isdigit())
            if value:
                slots["value"] = value
        return slots

    def _show_memory_slots(self, clause: _Clause) -> dict[str, Any]:
        slots: dict[str, Any] = {}
        if re.search(r"\b(?:download|export|copy)\b", clause.text):
            slots["export"] = True
        if re.search(r"\bsizes?\b", clause.text):
            slots["preference_key"] = "sizes"
            kind = self._size_kind(clause.text)
            if kind:
                slots["size_kind"] = kind
        elif re.search(r"\bbrands?\b", clause.text):
            slots["preference_key"] = "brands"
        elif re.search(r"\bcolors?\b", clause.text):
            slots["preference_key"] = "colors"
        elif re.search(r"\bbudget\b", clause.text):
            slots["preference_key"] = "price"
        return slots

    @staticmethod
    def _memory_scope(text: str) -> str:
        if re.search(r"\bpreferences?\b", text) and not re.search(
            r"\b(?:everything|all about|data|memory)\b", text
        ):
            return "preferences"
        if re.search(r"\bhistory\b", text):
            return "history"
        return "all"

    # -- support slots --

    def _support_slots(self, clause: _Clause) -> dict[str, Any]:
        slots: dict[str, Any] = {}
        for pattern, subject in _SUBJECT_RES:
            if pattern.search(clause.text):
                slots["subject"] = subject
                break
        m = re.search(r"\b(?:ticket|case)\s*(?:number|no\.?|#)?\s*#?(\d{1,10})\b", clause.text)
        text = clause.text
        if m:
            slots["ticket_id"] = m.group(1)
            text = S.mask(text, m.start(), m.end())
        ids, _ = S.take_order_ids(text)
        if ids:
            slots["order_id"] = ids[0]
        return slots
