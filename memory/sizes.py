"""Sizes per kind of product: "M" for a hoodie is a tops size, "10.5" a shoe size, "32" a waist.

Which kind a product takes comes from its category path (``Footwear > Running Shoes`` -> shoes),
then from its tags, then from the sizes its variants come in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

SIZE_KINDS = ("tops", "bottoms", "shoes")
TOP_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
BOTTOM_LETTER_SIZES = ("S", "M", "L", "XL")
WAIST_RANGE = (26, 44)
SHOE_RANGE = (Decimal(4), Decimal(15))

# Category (or tag) words -> the kind of size they take. Matched against every name on the path.
_KIND_WORDS: dict[str, str] = {
    "footwear": "shoes",
    "shoes": "shoes",
    "shoe": "shoes",
    "running shoes": "shoes",
    "trail shoes": "shoes",
    "sneakers": "shoes",
    "boots": "shoes",
    "tops": "tops",
    "outerwear": "tops",
    "jackets": "tops",
    "hoodies": "tops",
    "hoodies & sweatshirts": "tops",
    "t-shirts": "tops",
    "shirts": "tops",
    "sweaters": "tops",
    "bottoms": "bottoms",
    "jeans": "bottoms",
    "shorts": "bottoms",
    "leggings": "bottoms",
    "trousers": "bottoms",
    "pants": "bottoms",
}

KIND_EXAMPLES = {
    "tops": "XS, S, M, L, XL or XXL",
    "bottoms": "a waist from 26 to 44, or S, M, L or XL",
    "shoes": "4 to 15, halves included (e.g. 10.5)",
}


def kind_for_names(names: Iterable[str]) -> str | None:
    """The size kind for a category path (leaf last) or tag list; the most specific name wins."""
    for name in reversed(list(names)):
        kind = _KIND_WORDS.get(name.strip().lower())
        if kind:
            return kind
    return None


def kind_for_sizes(sizes: Iterable[str]) -> str | None:
    """A guess from the sizes on offer: numbers up to 16 are shoes, 24 and up are waists."""
    for size in sizes:
        try:
            number = float(size)
        except ValueError:
            continue
        if 3 <= number <= 16:
            return "shoes"
        if 24 <= number <= 44:
            return "bottoms"
    letters = {s.upper() for s in sizes}
    return "tops" if letters & set(TOP_SIZES) else None


def _shoe_size(text: str) -> str | None:
    text = text.replace(" 1/2", ".5").replace("½", ".5")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or not SHOE_RANGE[0] <= number <= SHOE_RANGE[1]:
        return None
    if number * 2 != (number * 2).to_integral_value():
        return None
    return str(number.quantize(Decimal("0.5")).normalize()) if number % 1 else str(int(number))


def normalise_size(kind: str, raw: object) -> str | None:
    """The size in the catalog's spelling ("m" -> "M", "10.0" -> "10"); None if ``kind`` has no such size."""
    text = re.sub(r"\s+", " ", str(raw)).strip()
    if kind == "tops":
        upper = text.upper()
        return upper if upper in TOP_SIZES else None
    if kind == "bottoms":
        upper = text.upper()
        if upper in BOTTOM_LETTER_SIZES:
            return upper
        if re.fullmatch(r"\d{2}", text) and WAIST_RANGE[0] <= int(text) <= WAIST_RANGE[1]:
            return text
        return None
    if kind == "shoes":
        return _shoe_size(text)
    raise ValueError(f"unknown size kind {kind!r}")


def kinds_accepting(raw: object) -> list[str]:
    """Every kind for which ``raw`` is a valid size (to suggest "did you mean your shoe size?")."""
    return [kind for kind in SIZE_KINDS if normalise_size(kind, raw) is not None]
