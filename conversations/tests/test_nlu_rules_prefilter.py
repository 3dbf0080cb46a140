"""The rows' prefilter (``Rule.needs``): a clause is passed over without running a row's expression only
when no match of it is possible, and most rows are passed over that way for an ordinary message."""

from __future__ import annotations

import re

import pytest

from conversations.assistant.nlu.rules import RULES, required_text
from conversations.tests.nl_eval.evaluate import load_cases


def _texts() -> list[str]:
    texts = {case.text.lower() for case in load_cases()}
    texts |= {text.strip(" ?!.") for text in texts}
    return sorted(texts)


def test_a_rows_prefilter_never_passes_over_a_clause_its_patterns_match():
    texts = _texts()
    assert len(texts) > 600
    matched = 0
    for rule in RULES:
        for text in texts:
            expected = rule.pattern.search(text) is not None
            assert rule.matches(text) is expected, (rule.number, rule.intent, text)
            matched += expected
    assert matched > 500  # the corpus exercises the rows' matches, not only their misses


def test_most_rows_are_passed_over_without_their_expression_for_an_ordinary_search():
    skipped = [
        rule for rule in RULES if rule.needs is not None and not rule.needs.search("show me hoodies in black")
    ]
    assert len(skipped) >= len(RULES) * 2 // 3
    assert sum(rule.needs is not None for rule in RULES) >= len(RULES) - 3


@pytest.mark.parametrize(
    ("pattern", "pieces"),
    [
        (r"\bcart\b", {"cart"}),
        (r"\b(?:basket|cart|bag)\b", {"basket", "cart", "bag"}),
        (r"^checkout(?: now| please)?$", {"checkout"}),  # the optional part requires nothing
        (r"(?:my |the )?order status", {"order status"}),
        (r"ready to (?:pay|buy)", {"ready to "}),  # the longest required piece wins
        (r"(?:x|y)+z", {"z"}),
        (r"(?:refund)+", {"refund"}),  # a repeat that must occur once
        (r"[\w.+-]+@[\w-]+", {"@"}),
    ],
)
def test_required_text_reads_the_pieces_every_match_contains(pattern: str, pieces: set[str]):
    compiled = re.compile(pattern)
    assert required_text(compiled) == frozenset(pieces)


@pytest.mark.parametrize(
    "pattern",
    [
        r"\b\w+\b",  # nothing literal
        r"(?:cart|\d+)",  # a branch that requires nothing
        r"(?:refund)?",  # optional
        r"(?:refund)*",  # may repeat zero times
        r"(?i)cart",  # case-insensitive: "CART" matches too
        r"(?i:cart)",
        r"(?=cart)",  # a lookahead is not read
    ],
)
def test_required_text_claims_nothing_it_cannot_prove(pattern: str):
    assert required_text(re.compile(pattern)) is None


def test_a_case_insensitive_row_would_not_be_prefiltered():
    assert required_text(re.compile("cart", re.IGNORECASE)) is None
