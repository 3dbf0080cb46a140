"""Slot extractors for the NLU.

Each extractor reads a clause (lower case, typos already corrected) and returns the value it found and
the clause with the matched words blanked out, so a number used as a price is not read again as a
quantity or a size. They are applied in a fixed order by ``nlu.extract_slots``: codes, order ids,
prices, sizes, references, quantities; the words left over make the product phrase.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .nlu_lexicon import (
    LETTER_SIZES,
    NOT_ORDER_IDS,
    NUMBER_WORDS,
    ORDINAL_WORDS,
    QUANTITY_PHRASES,
    STREET_SUFFIXES,
    US_STATES,
)


def mask(text: str, start: int, end: int) -> str:
    """Blank out text[start:end] keeping the length (so offsets stay valid) and the words apart."""
    n = end - start
    filler = " " if n < 2 else " " + "~" * (n - 2) + " "
    return text[:start] + filler + text[end:]


def _blank(text: str, m: re.Match[str], group: int = 0) -> str:
    return mask(text, m.start(group), m.end(group))


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    m = pattern.search(text)
    if m is None:
        return None, text
    return m, _blank(text, m)


# --- numbers --------------------------------------------------------------------------------------------

_NUMBER_WORD_RE = "|".join(sorted((w for w in NUMBER_WORDS if w not in {"pair", "both", "single"}), key=len))
_NUM = rf"(?:\d{{1,3}}|{_NUMBER_WORD_RE})"


def word_to_int(word: str) -> int | None:
    word = word.strip()
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(word)


# --- discount codes -------------------------------------------------------------------------------------

_CODE_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "my",
        "this",
        "that",
        "it",
        "for",
        "to",
        "please",
        "and",
        "i",
        "now",
        "here",
        "code",
        "codes",
        "at",
        "on",
        "is",
        "of",
        "with",
        "in",
        "me",
        "you",
    ]
)
_CODE_AFTER_WORD = re.compile(
    r"\b(?:(?:discount|promo|promotional|coupon|voucher|gift)\s+)?(?:code|coupon|voucher|promo)\b"
    r"(?:\s+(?:is|of|called|named))?\s*[:=]?\s*\"?([a-z0-9][a-z0-9_-]{2,19})\b"
)
_CODE_AFTER_VERB = re.compile(r"\b(?:apply|use|redeem|enter|try)\s+\"?([a-z0-9][a-z0-9_-]{2,19})\b")


def take_discount_code(text: str, cased: str, *, code_context: bool) -> tuple[str | None, str]:
    """``code SAVE10`` / ``coupon welcome5`` anywhere; ``apply SAVE10`` only when the word looks like a
    code (has a digit, or was typed in capitals) so that "apply it" or "use the second" stay words."""
    for m in _CODE_AFTER_WORD.finditer(text):
        word = m.group(1)
        if word not in _CODE_STOP:
            return word.upper(), _blank(text, m)
    if code_context:
        for m in _CODE_AFTER_VERB.finditer(text):
            word = m.group(1)
            typed_caps = re.search(rf"\b{re.escape(word.upper())}\b", cased) is not None
            if word not in _CODE_STOP and (any(c.isdigit() for c in word) or typed_caps):
                return word.upper(), _blank(text, m)
    return None, text


# --- order ids ------------------------------------------------------------------------------------------

_ORDER_PREFIXED = re.compile(r"\border[_-](\d{2,12})\b")
_ORDER_AFTER_WORD = re.compile(
    r"\b(?:order|orders|purchase)\s*(?:number|no\.?|id|#)?\s*#?\s*([a-z0-9]{4,12})\b"
)
_ORDER_HASH = re.compile(r"#\s?([a-z0-9]{4,12})\b")
_ORDER_CODE = re.compile(r"\b([a-z0-9]{6})\b")
_ID_AND_MORE = re.compile(r"\s*(?:,|and|&|or)\s*#?\s*([a-z0-9]{4,12})\b")


def looks_like_code(token: str) -> bool:
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def take_order_ids(text: str) -> tuple[list[str], str]:
    """Order references: ``order_000001``, ``order 4F7K2Q``, ``#4F7K2Q``, ``order number 123456`` and any
    six-character code mixing letters and digits (``4F7K2Q``); a plain word is never an id."""
    found: list[str] = []

    def add(token: str) -> None:
        token = token.upper()
        if token not in found and token not in NOT_ORDER_IDS:
            found.append(token)

    m: re.Match[str] | None
    for m in list(_ORDER_PREFIXED.finditer(text)):
        add(m.group(0).replace("-", "_"))
    for m in list(_ORDER_PREFIXED.finditer(text)):
        text = _blank(text, m)
    while True:
        m = _ORDER_AFTER_WORD.search(text)
        if m is None or not any(c.isdigit() for c in m.group(1)):
            break
        add(m.group(1))
        text = _blank(text, m, 1)
        # "orders 4F7K2Q and 7H8J9K": ids listed after the first one
        tail_start = m.end(1)
        while True:
            more = _ID_AND_MORE.match(text, tail_start)
            if more is None or not any(c.isdigit() for c in more.group(1)):
                break
            add(more.group(1))
            text = _blank(text, more, 1)
            tail_start = more.end(1)
    for pattern in (_ORDER_HASH, _ORDER_CODE):
        for m in list(pattern.finditer(text)):
            token = m.group(1)
            if pattern is _ORDER_CODE and not looks_like_code(token):
                continue
            if pattern is _ORDER_HASH and not any(c.isdigit() for c in token):
                continue
            if re.fullmatch(r"\d{1,3}(?:st|nd|rd|th)|\d+(?:xl|x|s|m|l|in|cm|pcs|pk)", token):
                continue  # "2nd", "3xl", "10in" are not order ids
            add(token)
        for m in list(pattern.finditer(text)):
            if m.group(1).upper() in found:
                text = _blank(text, m)
    return found, text


# --- prices ---------------------------------------------------------------------------------------------

_AMOUNT = (
    rf"(?:\$\s?\d+(?:[.,]\d{{1,2}})?|\d+(?:[.,]\d{{1,2}})?\s?\$?"
    rf"|(?:a|one|two|three|four|five) hundred|{_NUMBER_WORD_RE})"
)
_MONEY_UNIT = r"(?:\s?(?:dollars?|bucks|usd|us dollars))?"
_NOT_MONEY_UNIT = re.compile(
    r"^\s*(?:minutes?|mins?|hours?|days?|weeks?|months?|years?|items?|pairs?|pieces?|%|percent|kg|lbs?"
    r"|miles?|km)\b"
)

_PRICE_BETWEEN = re.compile(
    rf"\b(?:between|from)\s+({_AMOUNT}){_MONEY_UNIT}\s*(?:and|to|-)\s*({_AMOUNT}){_MONEY_UNIT}"
    rf"|(\$\s?\d+(?:\.\d{{1,2}})?)\s*(?:-|to)\s*(\$?\s?\d+(?:\.\d{{1,2}})?){_MONEY_UNIT}"
    rf"|\b(\d+)\s*(?:-|to)\s*(\d+)\s?(?:dollars|bucks|usd)\b"
)
_PRICE_MAX = re.compile(
    rf"\b(?:under|below|less than|nothing over|nothing above|nothing more than|not above|cheaper than"
    rf"|no more than|not more than|at most|max(?:imum)?|up to|"
    rf"lower than|beneath|within|for less than|not over|no higher than|less then|under then|"
    rf"budget (?:of|is)|my budget is|priced under|costing under"
    rf"|that costs? less than)\s+({_AMOUNT}){_MONEY_UNIT}"
    rf"|({_AMOUNT}){_MONEY_UNIT}\s+(?:or less|or under|or cheaper|or below|max(?:imum)?|tops|at most)\b"
)
_PRICE_MIN = re.compile(
    rf"\b(?:over|above|more than|at least|higher than|pricier than|more expensive than|no less than|"
    rf"minimum|min|starting at|upwards of)\s+({_AMOUNT}){_MONEY_UNIT}"
    rf"|({_AMOUNT}){_MONEY_UNIT}\s+(?:or more|and up|and above|or above)\b"
    rf"|(\$\s?\d+(?:\.\d{{1,2}})?)\s?(?:\+|plus)"
    rf"|\bfrom\s+(\$\s?\d+(?:\.\d{{1,2}})?)"
)
_PRICE_AROUND = re.compile(
    r"\b(?:around|about|roughly|approximately|close to)\s+(\$\s?\d+(?:\.\d{1,2})?|\d+\s?(?:dollars|bucks))"
)


def _amount(raw: str) -> Decimal | None:
    raw = raw.replace("$", "").replace("dollars", "").replace("bucks", "").strip()
    m = re.fullmatch(r"(a|one|two|three|four|five) hundred", raw)
    if m:
        return Decimal(100 * (1 if m.group(1) == "a" else NUMBER_WORDS[m.group(1)]))
    if raw in NUMBER_WORDS:
        return Decimal(NUMBER_WORDS[raw])
    try:
        return Decimal(raw.replace(",", "."))
    except InvalidOperation:
        return None


def _group(m: re.Match[str], *indexes: int) -> list[str]:
    return [m.group(i) for i in indexes if i <= (m.re.groups or 0) and m.group(i) is not None]


def take_prices(text: str) -> tuple[dict[str, Decimal], str]:
    """``under $150`` -> max_price, ``over $60`` -> min_price, ``between 50 and 80`` -> both;
    ``around $100`` -> 80..120. A number followed by a unit such as "days" or "items" is no price."""
    slots: dict[str, Decimal] = {}
    m = _PRICE_BETWEEN.search(text)
    if m:
        values = [_amount(v) for v in _group(m, 1, 2, 3, 4, 5, 6)]
        amounts = [v for v in values if v is not None]
        if len(values) == 2 and len(amounts) == 2:
            low, high = sorted(amounts)
            slots["min_price"], slots["max_price"] = low, high
            text = _blank(text, m)
    for pattern, key in ((_PRICE_MAX, "max_price"), (_PRICE_MIN, "min_price")):
        if key in slots:
            continue
        for m in pattern.finditer(text):
            raw = _group(m, 1, 2, 3, 4)[0]
            if _NOT_MONEY_UNIT.match(text[m.end() :]):
                continue
            if (
                not re.search(r"\d|hundred", raw)
                and "$" not in m.group(0)
                and not re.search(r"dollars?|bucks", m.group(0))
            ):
                continue  # "under two" is not a price; "under fifty bucks" is
            value = _amount(raw)
            if value is not None:
                slots[key] = value
                text = _blank(text, m)
                break
    if not slots:
        m = _PRICE_AROUND.search(text)
        if m:
            value = _amount(m.group(1))
            if value is not None:
                slots["min_price"] = (value * Decimal("0.8")).quantize(Decimal("1"))
                slots["max_price"] = (value * Decimal("1.2")).quantize(Decimal("1"))
                text = _blank(text, m)
    return slots, text


# --- sizes ----------------------------------------------------------------------------------------------

_LETTER_WORDS = "|".join(sorted((re.escape(k) for k in LETTER_SIZES), key=len, reverse=True))
_SHOE_NUM = r"\d{1,2}(?:\.5)?"
_SIZE_EXPLICIT = re.compile(
    rf"\b(?:size|sz|sized|sizes)\s*[:#=]?\s*(?:is |of |to )?(?:a |an )?({_LETTER_WORDS}|{_SHOE_NUM})(?![\w.])"
)
_SIZE_AFTER_NUM = re.compile(rf"\b({_SHOE_NUM})\s+size\b|\bsize\s+({_SHOE_NUM})\b")
_WAIST = re.compile(r"\b(?:waist|w)\s*(?:size\s*)?(\d{2})\b|\b(\d{2})\s*(?:inch |in |\" ?)?waist\b")
_LETTER_UNAMBIGUOUS = re.compile(
    r"\b(extra extra large|extra large|extra small|x-large|x-small|xx-large|xxs|xs|xl|xxl|2xl|xxxl|3xl)\b"
)
_LETTER_WORD = re.compile(
    r"\b(?:in |a |an |in a |in an |the )?(small|medium|large|med)\b(?!\s+(?:amount|number|order|size"
    r"|selection|range|one))"
)
_LETTER_SINGLE = re.compile(
    r"\b(?:in|wear|wear a|wear an|take|take a|take an|i'm a|i'm an|im a|i am a|am a|am an)\s+(s|m|l)\b(?!')"
)
_WEAR_NUMBER = re.compile(
    rf"\b(?:wear|wear a|take|take a|i'm a|im a|i am a|in a|in an)\s+(?:size\s+)?({_SHOE_NUM})(?![\w.$])"
)
_HALF_SIZE = re.compile(r"(?<![\w.$])(\d{1,2}\.5)(?![\w.])")
_IN_NUMBER = re.compile(rf"\bin\s+({_SHOE_NUM})(?![\w.$%])")


def _size_value(raw: str) -> str:
    raw = raw.strip()
    return LETTER_SIZES.get(raw, raw.upper())


def take_size(text: str, *, shoe_context: bool) -> tuple[str | None, str | None, str]:
    """Returns (size, kind hint, text). ``size M``, ``medium`` -> M, ``XL``, ``size 10``, ``10.5``,
    ``waist 32`` (kind bottoms). A bare number is a size only with a shoe in the clause ("in a 10")."""
    m, rest = _take(_WAIST, text)
    if m:
        return _group(m, 1, 2)[0], "bottoms", rest
    for pattern in (_SIZE_EXPLICIT, _SIZE_AFTER_NUM, _LETTER_UNAMBIGUOUS, _LETTER_SINGLE, _WEAR_NUMBER):
        m, rest = _take(pattern, text)
        if m:
            raw = _group(m, 1, 2)[0]
            return _size_value(raw), None, rest
    m, rest = _take(_HALF_SIZE, text)
    if m:
        return m.group(1), "shoes", rest
    m, rest = _take(_LETTER_WORD, text)
    if m:
        return _size_value(m.group(1)), None, rest
    if shoe_context:
        m, rest = _take(_IN_NUMBER, text)
        if m and 3 <= float(m.group(1)) <= 16:
            return m.group(1), "shoes", rest
    return None, None, text


def size_kind_for(size: str) -> str:
    """Kind of a size with nothing else to go on: numbers 3-16 are shoe sizes, 24-44 waists, letters tops."""
    try:
        number = float(size)
    except ValueError:
        return "tops"
    if 3 <= number <= 16:
        return "shoes"
    if 24 <= number <= 44:
        return "bottoms"
    return "tops"


# --- references -----------------------------------------------------------------------------------------

_ORDINAL_WORDS_RE = "|".join(sorted(ORDINAL_WORDS, key=len, reverse=True))
_ORDINAL = re.compile(
    rf"\b(?:the\s+)?({_ORDINAL_WORDS_RE})\b(?:\s+(?:one|ones|item|option|result|product|pair|pick|choice"
    rf"|line))?"
)
_NUMBERED = re.compile(r"\b(?:number|no\.|option|item|result|#)\s*(\d{1,2})\b(?!\s*(?:dollars|bucks))")
_PRONOUN = re.compile(
    r"\b(this one|that one|these ones|those ones|the one|it|them|that|this|those|these)\b"
    r"(?!\s+(?:i|you|we|they|he|she|my|is what|was what)\b)"
)
PLURAL_REFERENCES = frozenset({"them", "those", "these"})


def take_ordinal(text: str) -> tuple[int | None, str]:
    m = _ORDINAL.search(text)
    if m:
        return ORDINAL_WORDS[m.group(1)], _blank(text, m)
    m = _NUMBERED.search(text)
    if m:
        return int(m.group(1)), _blank(text, m)
    return None, text


def take_reference(text: str) -> tuple[str | None, str]:
    m = _PRONOUN.search(text)
    if m is None:
        return None, text
    word = m.group(1).replace(" ones", "").replace(" one", "")
    if word == "the":
        word = "that"
    return word, _blank(text, m)


# --- quantities -----------------------------------------------------------------------------------------

_DELTA_MORE = re.compile(rf"\b({_NUM}|a couple|a few|a couple of)\s+(?:more|extra|additional)\b")
_DELTA_LESS = re.compile(rf"\b({_NUM}|a couple|a few)\s+(?:less|fewer)\b")
_ANOTHER = re.compile(r"\b(?:another|one more|1 more)\b(?:\s+one\b)?")
_BY = re.compile(rf"\bby\s+({_NUM}|a couple|a few)\b")
_QTY_PHRASE = re.compile(r"\b(" + "|".join(re.escape(p) for p, _ in QUANTITY_PHRASES) + r")\b")
_QTY_NUMBER = re.compile(
    rf"(?<![\w.$#-])(\d{{4}}|{_NUM})(?:\s*x\b|\s+pairs? of|\s+pairs?|\s+units?|\s+pieces?|\s+pcs"
    rf"|\s+of)?(?![\w.%])"
)
_QTY_X = re.compile(r"\bx\s?(\d{1,2})\b|\b(\d{1,2})x\b")
_ONE_AS_PRONOUN = re.compile(
    r"\b(?:which|black|white|red|blue|green|grey|navy|other|new|cheap|cheaper|cheapest|same|right|big|small"
    r"|first|last|next|\w+est)\s+one\b"
)


def _qty_value(raw: str) -> int | None:
    raw = raw.strip()
    for phrase, value in QUANTITY_PHRASES:
        if raw == phrase or raw == phrase.removesuffix(" of"):
            return value
    return word_to_int(raw)


def take_delta(text: str) -> tuple[int | None, str]:
    """ "one more"/"another" -> +1, "2 more" -> +2, "one less" -> -1. The sign of "by 2" comes from the
    verb (increase/decrease), so it is returned unsigned here and signed by the caller."""
    m, rest = _take(_DELTA_MORE, text)
    if m:
        return _qty_value(m.group(1)), rest
    m, rest = _take(_DELTA_LESS, text)
    if m:
        value = _qty_value(m.group(1))
        return (-value if value else None), rest
    m, rest = _take(_ANOTHER, text)
    if m:
        return 1, rest
    return None, text


def take_by_amount(text: str) -> tuple[int | None, str]:
    m, rest = _take(_BY, text)
    if m:
        return _qty_value(m.group(1)), rest
    return None, text


def take_quantity(text: str) -> tuple[int | None, str]:
    m, rest = _take(_QTY_PHRASE, text)
    if m:
        return _qty_value(m.group(1)), rest
    m, rest = _take(_QTY_X, text)
    if m:
        return int(_group(m, 1, 2)[0]), rest
    # "the black one" / "which one": "one" is a pronoun there, not a count
    for m in list(_ONE_AS_PRONOUN.finditer(text)):
        text = mask(text, m.end() - 3, m.end())
    for m in _QTY_NUMBER.finditer(text):
        value = _qty_value(m.group(1))
        if value is not None and 0 <= value <= 9999:
            return value, _blank(text, m)
    return None, text


# --- addresses ------------------------------------------------------------------------------------------

_KV = re.compile(
    r"\b(line1|line 1|address1|address line 1|street|line2|line 2|address2|city|town|state|province|region|"
    r"postalcode|postal_code|postal code|postcode|zip|zipcode|zip code|country|name)\s*[=:]\s*([^,;=]+?)"
    r"(?=\s*(?:[,;]|$|\b(?:line1|line2|city|state|postalcode|postal_code|zip|country|name)\s*[=:]))",
    re.IGNORECASE,
)
_KV_KEYS = {
    "line1": "line1",
    "line 1": "line1",
    "address1": "line1",
    "address line 1": "line1",
    "street": "line1",
    "line2": "line2",
    "line 2": "line2",
    "address2": "line2",
    "city": "city",
    "town": "city",
    "state": "state",
    "province": "state",
    "region": "state",
    "postalcode": "postalCode",
    "postal_code": "postalCode",
    "postal code": "postalCode",
    "postcode": "postalCode",
    "zip": "postalCode",
    "zipcode": "postalCode",
    "zip code": "postalCode",
    "country": "country",
    "name": "name",
}
_SUFFIX = "|".join(STREET_SUFFIXES)
_FREE_ADDRESS = re.compile(
    rf"(?P<line1>\b\d+[a-z]?\s+(?:[a-z0-9.'-]+\s+){{0,4}}?(?:{_SUFFIX})\b\.?)"
    r"(?:\s*,?\s*(?P<line2>(?:apt|apartment|suite|ste|unit|floor|fl|#)\.?\s*#?[a-z0-9-]+))?"
    r"\s*,?\s*(?P<city>[a-z][a-z .'-]*?)\s*,?\s+(?P<state>[a-z]{2})\.?,?\s+(?P<zip>\d{5}(?:-\d{4})?)"
    r"(?:\s*,?\s*(?P<country>usa|us|united states(?: of america)?|u\.s\.a?\.?))?",
    re.IGNORECASE,
)
_COUNTRY_CODES = {
    "us": "US",
    "usa": "US",
    "united states": "US",
    "united states of america": "US",
    "u.s.": "US",
}


def _clean(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip(" .,")


def take_address(cased: str) -> dict[str, str] | None:
    """Address from ``line1=..., city=...`` pairs or from free text "500 Main St, Austin, TX 78701".
    Read from the message as typed so names keep their capitals; country defaults to US."""
    pairs = {_KV_KEYS[m.group(1).lower()]: _clean(m.group(2)) for m in _KV.finditer(cased)}
    if "line1" in pairs or ("city" in pairs and "postalCode" in pairs):
        address = dict(pairs)
    else:
        m = _FREE_ADDRESS.search(cased)
        if m is None or m.group("state").upper() not in US_STATES:
            return None
        city = _clean(m.group("city"))
        # typed in lower case -> "Austin"; typed with capitals -> kept as typed ("McKinney")
        address = {"line1": _clean(m.group("line1")), "city": city if city != city.lower() else city.title()}
        if m.group("line2"):
            address["line2"] = _clean(m.group("line2"))
        address["state"] = m.group("state").upper()
        address["postalCode"] = m.group("zip")
        if m.group("country"):
            address["country"] = m.group("country")
        if address["line1"] == address["line1"].lower():
            address["line1"] = " ".join(w.capitalize() for w in address["line1"].split())
    country = address.get("country", "US").strip()
    address["country"] = _COUNTRY_CODES.get(
        country.lower(), country.upper() if len(country) <= 3 else country
    )
    if "state" in address and len(address["state"]) == 2:
        address["state"] = address["state"].upper()
    return address
