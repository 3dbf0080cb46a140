"""The multi-turn scenarios with a real model planning (``make llm-eval``), beside the rules.

Every scenario of ``scenarios/*.jsonl`` is played twice on the same small catalog: once by the rules
alone and once with ``LLM_DECISION_POLICY=llm_first`` and the model named by the environment
(``LLM_PROVIDER``, ``LLM_MODEL``, ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` or ``ANTHROPIC_API_KEY`` /
``ANTHROPIC_BASE_URL``). Both are judged by the end state, as the scenario test does. It prints, per
planner, the success rate per scenario group (the file), p50/p95 time per message, and tokens and
estimated cost per scenario.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.test import override_settings

from conversations.models import Message
from conversations.tests.nl_eval.test_scenarios import (
    load_scenarios,
    make_catalog,
    run_scenario,
    scenario_undone,
)


@dataclass
class GroupResult:
    passed: int = 0
    total: int = 0
    seconds_per_message: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    cost: list[Decimal] = field(default_factory=list)
    model_planned: int = 0  # assistant messages whose actions the model chose
    fallbacks: int = 0


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def evaluate(
    planner_settings: dict[str, Any], scenarios: list[dict[str, Any]] | None = None
) -> dict[str, GroupResult]:
    """Plays every scenario under ``planner_settings`` (each in a savepoint, rolled back); per group."""
    scenarios = scenarios if scenarios is not None else load_scenarios()
    results: dict[str, GroupResult] = defaultdict(GroupResult)
    with override_settings(**planner_settings):
        for scenario in scenarios:
            result = results[scenario.get("group", "scenarios")]
            with scenario_undone():
                first_id = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                started = time.perf_counter()
                problems = run_scenario(scenario)
                elapsed = time.perf_counter() - started
                replies = Message.objects.filter(pk__gt=first_id, role=Message.Role.ASSISTANT)
                usage = replies.aggregate(
                    tokens_in=Sum("llm_tokens_in"), tokens_out=Sum("llm_tokens_out"), cost=Sum("llm_cost")
                )
                result.model_planned += replies.filter(planner="llm").count()
                result.fallbacks += replies.exclude(fallback_reason="").count()
            result.total += 1
            result.passed += not problems
            result.seconds_per_message.append(elapsed / max(len(scenario["turns"]), 1))
            result.tokens.append(int(usage["tokens_in"] or 0) + int(usage["tokens_out"] or 0))
            result.cost.append(Decimal(usage["cost"] or 0))
    return dict(results)


def report(title: str, results: dict[str, GroupResult]) -> str:
    lines = [
        title,
        f"{'group':<12} {'passed':>9} {'rate':>7} {'p50 ms/msg':>11} {'p95 ms/msg':>11} "
        f"{'tokens/scn':>11} {'cost/scn $':>11} {'by model':>9} {'fallbacks':>10}",
    ]
    every = GroupResult()
    for group, r in sorted(results.items()):
        lines.append(_row(group, r))
        every.passed += r.passed
        every.total += r.total
        every.seconds_per_message += r.seconds_per_message
        every.tokens += r.tokens
        every.cost += r.cost
        every.model_planned += r.model_planned
        every.fallbacks += r.fallbacks
    lines.append(_row("all", every))
    return "\n".join(lines)


def _row(group: str, r: GroupResult) -> str:
    rate = r.passed / r.total if r.total else 0.0
    tokens = statistics.mean(r.tokens) if r.tokens else 0
    cost = sum(r.cost, Decimal("0")) / len(r.cost) if r.cost else Decimal("0")
    p50 = _percentile(r.seconds_per_message, 0.5) * 1000
    p95 = _percentile(r.seconds_per_message, 0.95) * 1000
    return (
        f"{group:<12} {r.passed:>4}/{r.total:<4} {rate:>7.1%} {p50:>11.1f} "
        f"{p95:>11.1f} {tokens:>11.0f} {cost:>11.5f} "
        f"{r.model_planned:>9} {r.fallbacks:>10}"
    )


def run(model_settings: dict[str, Any], scenarios: list[dict[str, Any]] | None = None) -> str:
    """Both tables (rules, then the model) for one catalog; the caller owns the database."""
    provider, model_name = model_settings.get("LLM_PROVIDER", "?"), model_settings.get("LLM_MODEL", "?")
    make_catalog()
    rules = evaluate({"LLM_ENABLED": False}, scenarios)
    model = evaluate({**model_settings, "LLM_ENABLED": True, "LLM_DECISION_POLICY": "llm_first"}, scenarios)
    return "\n\n".join(
        [
            report("Rules only (LLM_ENABLED off)", rules),
            report(f"Model plans first ({provider} / {model_name})", model),
        ]
    )
