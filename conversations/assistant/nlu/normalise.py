"""Normalising a message: Unicode and whitespace, chat shorthand ("u" -> "you"), lower case, and typo
correction word by word against the store's words (``catalog.spelling``)."""

from __future__ import annotations

import re
import unicodedata

from catalog.spelling import SpellingCorrector

from ..nlu_lexicon import (
    words,
)

MAX_CHARS = 1000  # longer messages are cut: nobody types an order that long, and it bounds the cost

# --- normalization --------------------------------------------------------------------------------------

_SHORTHAND = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "ty": "thank you",
    "whats": "what's",
    "wheres": "where's",
    "hows": "how's",
    "im": "i'm",
    "ive": "i've",
    "id": "i'd",
    "ill": "i'll",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "cant": "can't",
    "wont": "won't",
    "isnt": "isn't",
    "hasnt": "hasn't",
    "havent": "haven't",
    "wanna": "want to",
    "gonna": "going to",
    "gimme": "give me",
    "lemme": "let me",
    "colour": "color",
    "colours": "colors",
    "favourite": "favorite",
    "favourites": "favorites",
    "check-out": "checkout",
    "e-mail": "email",
    "&amp;": "&",
    "yse": "yes",
    "yess": "yes",
    "yeh": "yeah",
    "ye": "yes",
    "noo": "no",
    "nop": "nope",
}
_KNOWN_EXTRA = words(
    """
    please thanks thank hello hey what's where's i'm i'd i'll don't can't won't there their they then
    than this that these those them with from into onto have want need like would could should shall
    might must also just only some more most very really much many other another anything something
    everything nothing someone anyone about after before again still already right left good great nice
    fine okay sure yeah nope maybe today tomorrow yesterday week month year time morning evening night
    store shop online website site email phone account password login sign money price cost dollar
    dollars bucks cheap size sizes color colors wear wearing worn running hiking walking training gym
    work office home sort sorts
    """
)
_TOKEN_RE = re.compile(r"[a-z0-9&][a-z0-9&'.-]*[a-z0-9]|[a-z0-9]")


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    text = text.translate({0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"', 0x2013: "-", 0x2014: "-"})
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def _correct(lower: str, cased: str, corrector: SpellingCorrector) -> tuple[str, dict[str, str]]:
    """Shorthand expansion and typo correction, word by word. Words right after "code"/"coupon" and
    words typed in capitals mid-sentence (names, codes) are never corrected."""
    corrections: dict[str, str] = {}
    same_length = len(lower) == len(cased)
    out: list[str] = []
    pos = 0
    prev = ""
    for m in _TOKEN_RE.finditer(lower):
        word = m.group(0)
        out.append(lower[pos : m.start()])
        pos = m.end()
        replacement = _SHORTHAND.get(word)
        if replacement is None and prev not in {"code", "coupon", "promo", "voucher"}:
            typed = cased[m.start() : m.end()] if same_length else word
            # "Austin", "McKinney" mid-sentence are names; "RUNING" in capitals is still a typo
            capitalised_name = m.start() > 0 and typed[:1].isupper() and not typed.isupper()
            if not capitalised_name:
                fixed = corrector.correct(word)
                if fixed:
                    corrections[word] = fixed
                    replacement = fixed
        out.append(replacement or word)
        prev = word
    out.append(lower[pos:])
    return "".join(out), corrections
