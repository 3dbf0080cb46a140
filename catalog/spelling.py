"""A small spelling corrector: fixes typos into known words only (the chat's store words and keywords;
the catalog's own vocabulary for every search, see ``catalog.selectors.search_correction``).

It is deliberately narrow. A token is corrected only when it is unknown (not a keyword, not store
vocabulary, not a listed common word), has five letters or more (four when the typo is a swap of two
letters, "crat" -> "cart"), contains no digit, and exactly one target word is closest: one edit away for
words up to seven letters, two for longer ones (optimal string alignment distance, so a swap of
neighbours counts as one edit). Candidates are found through precomputed deletions (the SymSpell idea),
so a lookup costs a handful of dictionary probes, not a scan of the lexicon.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations


def _deletes(word: str, depth: int) -> set[str]:
    out: set[str] = set()
    n = len(word)
    for k in range(1, depth + 1):
        if n - k < 2:
            break
        for drop in combinations(range(n), k):
            out.add("".join(ch for i, ch in enumerate(word) if i not in drop))
    return out


def osa_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent swaps), capped at ``limit``."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return min(prev[-1], limit)


def _max_distance(length: int) -> int:
    return 2 if length >= 9 else 1


def _dropped_vowel(short: str, long: str) -> bool:
    """``short`` is ``long`` with one vowel left out ("ordr" / "order")."""
    if len(long) != len(short) + 1:
        return False
    return any(long[i] in "aeiou" and long[:i] + long[i + 1 :] == short for i in range(len(long)))


class SpellingCorrector:
    """Corrects single tokens into a fixed set of target words; ``known`` words are left alone."""

    def __init__(self, targets: frozenset[str], known: frozenset[str]) -> None:
        self.targets = frozenset(t for t in targets if t.isalpha() and len(t) >= 4)
        self.known = known | targets
        self._index: dict[str, set[str]] = {}
        for word in self.targets:
            for key in {word} | _deletes(word, _max_distance(len(word))):
                self._index.setdefault(key, set()).add(word)
        # Bound per corrector: a message can only add a few unknown tokens, and vocabularies are few.
        self.correct = lru_cache(maxsize=8192)(self._correct)

    def _correct(self, token: str) -> str | None:
        if token in self.known or not token.isalpha():
            return None
        n = len(token)
        if n < 4:
            return None
        depth = _max_distance(n)
        candidates: set[str] = set()
        for key in {token} | _deletes(token, depth):
            hit = self._index.get(key)
            if hit:
                candidates |= hit
        best: list[str] = []
        best_d = depth + 1
        for cand in candidates:
            if n == 4 and sorted(cand) != sorted(token) and not _dropped_vowel(token, cand):
                # four letters: only a swap ("crat") or a dropped vowel ("ordr"); "back" is not "black"
                continue
            if token[0] != cand[0] and token[:2] != cand[1::-1]:
                continue  # typos rarely touch the first letter ("live" is not "olive"), except a swap
            d = osa_distance(token, cand, depth + 1)
            if d > _max_distance(max(n, len(cand))):
                continue
            if d < best_d:
                best, best_d = [cand], d
            elif d == best_d:
                best.append(cand)
        if len(best) == 1:
            return best[0]
        if len(best) > 1:
            # Typos rarely change the first letter; use that to break a tie, else give up.
            same_start = [c for c in best if c[0] == token[0]]
            if len(same_start) == 1:
                return same_start[0]
        return None
