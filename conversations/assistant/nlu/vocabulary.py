"""The store's words (brands, categories, colours, styles, product terms) and the longest-match scan that
finds them in a clause."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from catalog.spelling import SpellingCorrector

from ..nlu_lexicon import (
    CATEGORY_SYNONYMS,
    COLOR_ALIASES,
    COMMON_WORDS,
    DEFAULT_BRANDS,
    DEFAULT_CATEGORIES,
    DEFAULT_COLORS,
    DEFAULT_STYLES,
    KEYWORDS,
    NUMBER_WORDS,
    ORDINAL_WORDS,
    PRODUCT_NOUNS,
)
from .normalise import _KNOWN_EXTRA
from .rules import RULE_WORDS


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("shoes", "caps", "socks")) or (word.endswith("s") and not word.endswith("ss")):
        return word[:-1]
    return word


class _VocabIndex:
    """Lookup structures for one Vocabulary, built once."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.phrases: dict[str, tuple[str, str]] = {}
        for kind, values in (
            ("style", vocab.styles),
            ("color", vocab.colors),
            ("category", vocab.categories),
            ("brand", vocab.brands),
        ):
            for value in values:
                for alias in self._aliases(kind, value):
                    self.phrases[alias] = (kind, value)
        canon = {c.lower(): c for c in vocab.categories}
        for alias, target in CATEGORY_SYNONYMS.items():
            if target in canon and alias not in self.phrases:
                self.phrases[alias] = ("category", canon[target])
        colors = {c.lower(): c for c in vocab.colors}
        for alias, target in COLOR_ALIASES.items():
            if target in colors:
                self.phrases[alias] = ("color", colors[target])
        for brand in vocab.brands:
            # "summit" alone means Summit & Co, unless the first word is an everyday word ("urban")
            first = brand.lower().split()[0]
            if " " in brand and first not in COMMON_WORDS and first not in self.phrases:
                self.phrases[first] = ("brand", brand)
        self.max_words = max((len(p.split()) for p in self.phrases), default=1)
        self.first_words = frozenset(p.split()[0] for p in self.phrases)
        self.product_terms = frozenset(t.lower() for t in vocab.product_terms) | PRODUCT_NOUNS
        words = {w for p in self.phrases for w in re.findall(r"[a-z]+", p)}
        targets = frozenset(KEYWORDS | words | self.product_terms)
        known = frozenset(
            COMMON_WORDS | _KNOWN_EXTRA | RULE_WORDS | NUMBER_WORDS.keys() | ORDINAL_WORDS.keys()
        )
        self.corrector = SpellingCorrector(targets, known)
        self.scan = lru_cache(maxsize=4096)(lambda text: _scan_uncached(text, self))

    @staticmethod
    def _aliases(kind: str, value: str) -> set[str]:
        low = value.lower()
        out = {low}
        if "&" in low:
            out |= {low.replace("&", "and"), low.replace(" & ", " ")}
        if kind == "category":
            words = low.split()
            out.add(" ".join(words[:-1] + [_singular(words[-1])]))
            if words[-1].endswith("ies"):
                out.add(" ".join(words[:-1] + [words[-1][:-1]]))  # "hoodies" -> "hoodie" as well as "hoody"
            out.add(low.replace("-", " "))
            out.add(low.replace("-", ""))
        if kind == "brand":
            out.add(low.replace(" ", ""))
        return {a.strip() for a in out if a.strip()}


@dataclass(frozen=True)
class Vocabulary:
    """The store's words: brands, categories, colours, styles and optional product terms.

    Built from the catalog at runtime (``Vocabulary.build(brands=..., categories=...)``); values are
    returned in slots exactly as given here (e.g. the category name as stored).
    """

    brands: tuple[str, ...] = DEFAULT_BRANDS
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    colors: tuple[str, ...] = DEFAULT_COLORS
    styles: tuple[str, ...] = DEFAULT_STYLES
    product_terms: tuple[str, ...] = ()
    _index: _VocabIndex = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", _VocabIndex(self))

    @classmethod
    def build(
        cls,
        *,
        brands: Iterable[str] | None = None,
        categories: Iterable[str] | None = None,
        colors: Iterable[str] | None = None,
        styles: Iterable[str] | None = None,
        product_terms: Iterable[str] | None = None,
    ) -> Vocabulary:
        """Anything not given keeps the default; blanks and duplicates are dropped."""

        def clean(values: Iterable[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
            if values is None:
                return default
            seen: dict[str, str] = {}
            for v in values:
                v = " ".join(str(v).split())
                if v and v.lower() not in seen:
                    seen[v.lower()] = v
            return tuple(seen.values())

        return cls(
            brands=clean(brands, DEFAULT_BRANDS),
            categories=clean(categories, DEFAULT_CATEGORIES),
            colors=clean(colors, DEFAULT_COLORS),
            styles=clean(styles, DEFAULT_STYLES),
            product_terms=clean(product_terms, ()),
        )


# --- vocabulary scanning --------------------------------------------------------------------------------

_WORD_RE = re.compile(r"[a-z0-9&][a-z0-9&'-]*")


@dataclass
class _Found:
    brands: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    colors: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, kind)


def _scan_vocab(text: str, index: _VocabIndex) -> _Found:
    """Longest-match scan of the vocabulary phrases over the words of ``text`` (cached per vocabulary;
    the result is shared, so callers must not change it)."""
    return index.scan(text)


def _scan_uncached(text: str, index: _VocabIndex) -> _Found:
    words = [(m.group(0), m.start(), m.end()) for m in _WORD_RE.finditer(text)]
    found = _Found()
    i = 0
    while i < len(words):
        hit = None
        if words[i][0] not in index.first_words:
            i += 1
            continue
        for n in range(min(index.max_words, len(words) - i), 0, -1):
            phrase = " ".join(w for w, _, _ in words[i : i + n])
            if phrase in index.phrases:
                hit = (n, index.phrases[phrase])
                break
        if hit is None:
            i += 1
            continue
        n, (kind, value) = hit
        bucket = getattr(found, {"category": "categories"}.get(kind, kind + "s"))
        if value not in bucket:
            bucket.append(value)
        found.spans.append((words[i][1], words[i + n - 1][2], kind))
        i += n
    return found


def _has_product(text: str, index: _VocabIndex, found: _Found | None = None) -> bool:
    found = found or _scan_vocab(text, index)
    if found.categories or found.brands:
        return True
    return any(w in index.product_terms for w in _WORD_RE.findall(text))
