"""benchmarks/ab_chat.py: the figures read off a chat benchmark's output, and the paired comparison."""

from __future__ import annotations

import pytest

from benchmarks.ab_chat import compare, figures, ratios_to_base_pings

# The lines of a real `make bench-ws` run that the comparison reads (2026-12-05, night).
OUTPUT = "\n".join(
    [
        "  messages answered: 1200 in 4.1 s = 290.3 messages/s (timed once all sockets were open)",
        "  ping -> pong on the same 50 sockets, before and after each round: 18905, 19012, 19722 round"
        " trips/s (mean 19213); messages/s / pings/s = 0.0151 (issue 14's target: at least 0.03)",
        "    round 1: 600 messages in 2.05 s = 292.7 messages/s, p95 270 ms; / the pings either side (18905,"
        " 19012) = 0.0154",
        "  round trip ms: p50 143, p95 278, p99 341, max 402, mean 152",
        "  CPU per message: Daphne 4.7 ms (all processes), their PostgreSQL sessions 1.3 ms; 2 CPUs allow at"
        " most 333 messages/s at that cost",
        "  errors: 0",
    ]
)


def test_every_figure_is_read_off_a_runs_output():
    assert figures(OUTPUT) == {
        "messages/s": 290.3,
        "ratio to pings": 0.0151,
        "pings/s": 19213.0,  # the mean of the rates before and after the rounds
        "p95 ms": 278.0,
        "Daphne CPU ms/msg": 4.7,
        "PostgreSQL CPU ms/msg": 1.3,
    }


@pytest.mark.parametrize(
    "output",
    [OUTPUT.replace("errors: 0", "errors: 3 (first: timeout)"), "Traceback (most recent call last):"],
)
def test_a_run_with_errors_or_no_result_is_refused(output):
    with pytest.raises(ValueError):
        figures(output)


def test_pairs_are_compared_as_pairs_and_better_means_lower_for_times():
    base = [{"messages/s": 200.0, "p95 ms": 400.0}, {"messages/s": 300.0, "p95 ms": 300.0}]
    head = [{"messages/s": 220.0, "p95 ms": 360.0}, {"messages/s": 315.0, "p95 ms": 330.0}]
    rows = {row.name: row for row in compare(base, head)}
    assert rows["messages/s"].base_mean == 250 and rows["messages/s"].head_mean == 267.5
    assert rows["messages/s"].change_pct == pytest.approx(7.5)  # +10% and +5%, paired
    assert rows["messages/s"].spread_pct == pytest.approx(3.5355, rel=1e-3)
    assert rows["messages/s"].better == 2
    assert rows["p95 ms"].better == 1  # 400 -> 360 is better, 300 -> 330 is not
    assert set(rows) == {"messages/s", "p95 ms"}  # figures no run printed are left out


def test_runs_must_come_in_pairs():
    with pytest.raises(ValueError):
        compare([{"messages/s": 1.0}], [])


def test_the_working_trees_messages_are_divided_by_the_bases_own_ping_rate_pair_by_pair():
    base = [{"messages/s": 36.0, "pings/s": 7000.0}, {"messages/s": 34.0, "pings/s": 7200.0}]
    head = [{"messages/s": 280.0, "pings/s": 15000.0}, {"messages/s": 288.0, "pings/s": 14400.0}]
    assert ratios_to_base_pings(base, head) == [pytest.approx(0.04), pytest.approx(0.04)]


def test_no_ratio_to_the_bases_pings_when_a_base_run_printed_none():
    assert ratios_to_base_pings([{"messages/s": 36.0}], [{"messages/s": 280.0, "pings/s": 15000.0}]) == []


def test_a_figure_a_run_could_not_measure_is_left_out_of_the_comparison():
    base = [{"messages/s": 34.0, "PostgreSQL CPU ms/msg": 0.0}]  # sessions gone before they were read
    head = [{"messages/s": 230.0, "PostgreSQL CPU ms/msg": 1.7}]
    assert {row.name for row in compare(base, head)} == {"messages/s"}
