"""benchmarks/ws_chat.py: rounds of guests added up as one run, and each round's ratio to its own pings."""

from __future__ import annotations

import importlib
import sys

import pytest

# ws_chat.py runs as a script beside common.py and imports it as a top-level module: the same module
# under that name, without putting benchmarks/ on every other test's import path.
sys.modules.setdefault("common", importlib.import_module("benchmarks.common"))

from benchmarks.ws_chat import Results, merged, round_ratios  # noqa: E402


def _round(latencies: list[float], seconds: float, cpu_ms: list[float], **more) -> Results:
    done = Results(latencies=latencies, seconds=seconds, cpu_ms=cpu_ms, **more)
    done.by_kind["search"] = latencies[:1]
    return done


def test_rounds_are_added_up_as_one_run():
    first = _round([100.0, 200.0], 1.0, [40.0, 10.0], carts_viewed=1, carts_with_items=1)
    second = _round([300.0], 2.0, [20.0, 5.0], errors=["timeout"], carts_viewed=1, carts_with_items=0)

    whole = merged([first, second])

    assert whole.latencies == [100.0, 200.0, 300.0]
    assert whole.by_kind["search"] == [100.0, 300.0]
    assert whole.seconds == 3.0
    assert whole.cpu_ms == [60.0, 15.0]
    assert whole.errors == ["timeout"]
    assert (whole.carts_viewed, whole.carts_with_items) == (2, 1)


def test_each_round_is_divided_by_the_mean_of_the_pings_either_side():
    rounds = [_round([1.0] * 300, 1.5, []), _round([1.0] * 300, 1.0, [])]

    ratios = round_ratios(rounds, [8000.0, 6000.0, 4000.0])

    assert ratios == pytest.approx([200 / 7000, 300 / 5000])


def test_the_pings_must_bracket_every_round():
    with pytest.raises(ValueError, match="2 rounds need 3 ping rates"):
        round_ratios([_round([1.0], 1.0, []), _round([1.0], 1.0, [])], [8000.0, 6000.0])
