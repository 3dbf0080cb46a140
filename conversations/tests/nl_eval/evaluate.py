"""Scores the NLU against the labelled utterances in this folder and times it.

Run ``python -m conversations.tests.nl_eval`` (``make nl-eval``) from the repository root for the table, the
timing figures and the CLINC150 off-topic check; ``test_nl_eval.py`` runs the same code under pytest and
fails below the thresholds.

Each ``*.jsonl`` line: ``{"text", "intents": [names in message order], "slots": {...} or [{...} per
intent], "context": {"pending_confirmation": bool, "pending_clarification": str}}``. Expected slots are a
subset: a slot the NLU returns but the line does not mention is not an error. Prices are written as
strings ("150") and compared as decimals.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from conversations.assistant.nlu import ACTION_INTENTS, NluContext, Understanding, understand

EVAL_DIR = Path(__file__).resolve().parent
REPO_ROOT = EVAL_DIR.parents[2]
CLINC_FILE = REPO_ROOT.parent / "shared" / "data" / "clinc150" / "data_full.json"

# Our own labelled lines: at least 98% read exactly right (issue 13; 100% when this was set).
INTENT_ACCURACY_MIN = 0.98
SLOT_ACCURACY_MIN = 0.90
# Off-topic CLINC150 utterances (all 1,200 of oos_train, oos_val and oos_test) that would reach an action
# (an action intent at or above the planner's default confidence gate of 0.55): at most 0.5%.
# Measured 7 of 1,200 (0.58%) before issue 13, 6 (0.50%) after.
CLINC_FALSE_ACTION_MAX = 0.005
PLANNER_MIN_CONFIDENCE = 0.55
# CLINC150 intents that are outside phrasings of ours (its README names them). The rules are tuned on
# its train and val splits only; the *test* split is only ever scored, and its misses are never printed
# (so nobody tunes on them). CLINC's `order` ("order me some lysol", "buy everything on my grocery
# list") is left out: for a clothing store those are off-catalog requests, and answering them as out of
# scope is right. "The status of my orders" is our multi_status: the same answer, for several orders.
CLINC_OUR_INTENTS = {
    "order_status": {"order_status", "multi_status"},
    "yes": {"confirm"},
    "no": {"deny"},
    "greeting": {"greeting"},
    "goodbye": {"greeting"},
    "thank_you": {"greeting"},
    "what_can_i_ask_you": {"help"},
    "are_you_a_bot": {"help"},
}
CLINC_TUNING_SPLITS = ("train", "val")
CLINC_SCORED_SPLIT = "test"
# Each CLINC intent of ours on the test split: at least 90% (issue 13). Before issue 13: 86% overall,
# order_status 76.7%, greeting/no/yes/are_you_a_bot 86.7%, what_can_i_ask_you 83.3%.
CLINC_PER_INTENT_MIN = 0.90


@dataclass
class Case:
    text: str
    intents: list[str]
    slots: list[dict[str, Any]]
    context: NluContext
    source: str


@dataclass
class Report:
    total: int = 0
    intent_correct: int = 0
    slot_checks: int = 0
    slot_correct: int = 0
    per_intent: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    failures: list[str] = field(default_factory=list)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_correct / self.total if self.total else 0.0

    @property
    def slot_accuracy(self) -> float:
        return self.slot_correct / self.slot_checks if self.slot_checks else 1.0


def load_cases(directory: Path = EVAL_DIR) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(directory.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            slots = row.get("slots", {})
            if isinstance(slots, dict):
                slots = [slots] + [{} for _ in row["intents"][1:]]
            ctx = row.get("context", {})
            cases.append(
                Case(
                    text=row["text"],
                    intents=list(row["intents"]),
                    slots=slots,
                    context=NluContext(
                        pending_confirmation=bool(ctx.get("pending_confirmation")),
                        pending_clarification=ctx.get("pending_clarification"),
                    ),
                    source=f"{path.name}:{number}",
                )
            )
    return cases


def value_matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and value_matches(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(value_matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(actual, Decimal):
        try:
            return Decimal(str(expected)) == actual
        except InvalidOperation:
            return False
    return expected == actual


def score(cases: list[Case]) -> Report:
    report = Report()
    for case in cases:
        result = understand(case.text, context=case.context)
        names = [i.name for i in result.intents]
        ok = names == case.intents
        report.total += 1
        report.intent_correct += ok
        key = "+".join(case.intents)
        report.per_intent[key][0] += ok
        report.per_intent[key][1] += 1
        wrong_slots: list[str] = []
        for position, expected in enumerate(case.slots):
            actual = result.intents[position].slots if ok and position < len(result.intents) else {}
            for slot, value in expected.items():
                report.slot_checks += 1
                if value_matches(value, actual.get(slot)):
                    report.slot_correct += 1
                else:
                    wrong_slots.append(f"{slot}={value!r} got {actual.get(slot)!r}")
        if not ok or wrong_slots:
            got = [(i.name, _plain(i.slots)) for i in result.intents]
            report.failures.append(
                f"{case.source}: {case.text!r} expected {case.intents} got {got} {wrong_slots}"
            )
    return report


def _plain(slots: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in slots.items()}


def format_report(report: Report) -> str:
    lines = [f"{'intent':42} {'correct':>8} {'total':>6} {'accuracy':>9}"]
    for name in sorted(report.per_intent):
        correct, total = report.per_intent[name]
        lines.append(f"{name:42} {correct:>8} {total:>6} {correct / total:>9.1%}")
    lines.append(
        f"{'OVERALL intent':42} {report.intent_correct:>8} {report.total:>6} {report.intent_accuracy:>9.1%}"
    )
    lines.append(
        f"{'OVERALL slots':42} {report.slot_correct:>8} {report.slot_checks:>6} {report.slot_accuracy:>9.1%}"
    )
    return "\n".join(lines)


def timing(cases: list[Case], rounds: int = 5) -> dict[str, float]:
    """Understanding time per message in microseconds over the eval set, after one warm-up pass.

    Both wall-clock and CPU time are kept: on a busy machine the wall-clock tail mostly measures waiting
    for a core, while CPU time is what the NLU itself costs.
    """
    for case in cases:
        understand(case.text, context=case.context)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for case in cases:
            w, c = time.perf_counter(), time.process_time()
            understand(case.text, context=case.context)
            cpu.append((time.process_time() - c) * 1e6)
            wall.append((time.perf_counter() - w) * 1e6)
    wall.sort()
    cpu.sort()

    def pct(xs: list[float], q: float) -> float:
        return xs[min(len(xs) - 1, int(len(xs) * q))]

    return {
        "messages": len(wall),
        "p50_us": pct(wall, 0.5),
        "p95_us": pct(wall, 0.95),
        "mean_us": statistics.fmean(wall),
        "cpu_p50_us": pct(cpu, 0.5),
        "cpu_p95_us": pct(cpu, 0.95),
        "cpu_mean_us": statistics.fmean(cpu),
    }


def format_timing(t: dict[str, float]) -> str:
    return (
        f"understanding time over {t['messages']:.0f} messages: "
        f"wall p50 {t['p50_us']:.0f} us, p95 {t['p95_us']:.0f} us, mean {t['mean_us']:.0f} us; "
        f"CPU p50 {t['cpu_p50_us']:.0f} us, p95 {t['cpu_p95_us']:.0f} us, mean {t['cpu_mean_us']:.0f} us"
    )


def _clinc() -> dict[str, list[list[str]]] | None:
    if not CLINC_FILE.exists():
        return None
    data: dict[str, list[list[str]]] = json.loads(CLINC_FILE.read_text(encoding="utf-8"))
    return data


def clinc_out_of_scope(splits: tuple[str, ...] = ("oos_train", "oos_val", "oos_test")) -> list[str] | None:
    data = _clinc()
    if data is None:
        return None
    return [text for key in splits for text, _ in data[key]]


def clinc_our_intents(split: str = CLINC_SCORED_SPLIT) -> list[tuple[str, str]] | None:
    """(text, CLINC intent) for the CLINC150 intents that are ours under another name."""
    data = _clinc()
    if data is None:
        return None
    return [(text, intent) for text, intent in data[split] if intent in CLINC_OUR_INTENTS]


def below_target(per_intent: dict[str, list[int]]) -> dict[str, float]:
    """The CLINC intents understood less often than ``CLINC_PER_INTENT_MIN``, with their rate."""
    return {
        intent: correct / total
        for intent, (correct, total) in sorted(per_intent.items())
        if correct / total < CLINC_PER_INTENT_MIN
    }


def score_outside_phrasings(cases: list[tuple[str, str]]) -> tuple[dict[str, list[int]], list[str]]:
    """Per CLINC intent [correct, total] (the first intent understood must be ours), and the misses."""
    per_intent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for text, intent in cases:
        got = [i.name for i in understand(text).intents]
        ok = bool(got) and got[0] in CLINC_OUR_INTENTS[intent]
        per_intent[intent][0] += ok
        per_intent[intent][1] += 1
        if not ok:
            misses.append(f"{intent}: {text!r} got {got}")
    return per_intent, misses


def format_outside_phrasings(per_intent: dict[str, list[int]], split: str = CLINC_SCORED_SPLIT) -> str:
    lines = [f"{'CLINC150 ' + split + ' split, our intents':40s} {'correct':>7s} {'total':>6s} accuracy"]
    for intent, (correct, total) in sorted(per_intent.items()):
        lines.append(f"{intent:40s} {correct:7d} {total:6d} {correct / total:8.1%}")
    correct = sum(c for c, _ in per_intent.values())
    total = sum(t for _, t in per_intent.values())
    lines.append(f"{'OVERALL outside phrasings':40s} {correct:7d} {total:6d} {correct / total:8.1%}")
    return "\n".join(lines)


def false_actions(texts: list[str]) -> list[tuple[str, Understanding]]:
    """Utterances whose understanding would let the planner act: an action intent it would not refuse
    for low confidence."""
    hits = []
    for text in texts:
        result = understand(text)
        if any(i.name in ACTION_INTENTS and i.confidence >= PLANNER_MIN_CONFIDENCE for i in result.intents):
            hits.append((text, result))
    return hits


def main() -> None:
    cases = load_cases()
    report = score(cases)
    print(format_report(report))
    for failure in report.failures:
        print("  FAIL", failure)
    print(f"labelled set: {report.intent_accuracy:.1%} (target at least {INTENT_ACCURACY_MIN:.0%})")
    print(format_timing(timing(cases)))
    oos = clinc_out_of_scope()
    if oos is None:
        print(f"CLINC150 not found at {CLINC_FILE}: the outside-phrasing figures are skipped")
        return
    hits = false_actions(oos)
    rate = len(hits) / len(oos)
    print(
        f"CLINC150 out-of-scope utterances reaching an action: {len(hits)}/{len(oos)} ({rate:.2%}; "
        f"target at most {CLINC_FALSE_ACTION_MAX:.1%})"
    )
    # the misses of the splits the rules may be tuned on; the test split's stay unprinted
    for text, result in false_actions(clinc_out_of_scope(("oos_train", "oos_val")) or []):
        print("   (train/val)", text, "->", [(i.name, i.confidence) for i in result.intents])
    for split in CLINC_TUNING_SPLITS:
        per_intent, misses = score_outside_phrasings(clinc_our_intents(split) or [])
        print(format_outside_phrasings(per_intent, split))
        for miss in misses:
            print("   ", miss)
    per_intent, _ = score_outside_phrasings(clinc_our_intents() or [])
    print(format_outside_phrasings(per_intent))
    short = below_target(per_intent)
    print(
        f"each at least {CLINC_PER_INTENT_MIN:.0%}: "
        + ("yes" if not short else "no, " + ", ".join(f"{k} {v:.1%}" for k, v in short.items()))
    )


if __name__ == "__main__":
    main()
