"""Two builds of the chat benchmark, alternated: ``make bench-ws-ab BASE=<commit> [PAIRS=4]``.

Runs ``benchmarks/ws_chat.py`` for the working tree and for ``BASE`` (checked out into a temporary git
worktree, removed afterwards), in pairs whose order alternates (base first, then the working tree
first, ...), and prints each run's figures and, per figure, both means, the mean of the pairs'
differences with its spread, and how many pairs moved the same way. On the 2-core machines here one
build's runs spread ±10-15% from run to run, so a single run of each cannot show a change of a few
per cent; several alternated pairs can, or show that it is not there (docs/benchmarks.md).

Both builds use this checkout's virtualenv and the same environment (``DATABASE_URL``, ``REDIS_URL``,
``BENCH_PORTS`` ...), so a change of dependencies is not what this compares; and both are measured by
the working tree's benchmark scripts (copied into the base's worktree), so neither is a change of the
measurement: the same visit, the same clock, the same yardsticks.

Each build also measures its own yardstick, ``ping`` -> ``pong`` on the chat socket, which is the chat
consumer's code too: work that makes the consumer cheaper makes pings faster as well. So the last line
also divides the working tree's messages/s by the *base's* ping rate, pair by pair: issue 14's ratio
against the yardstick as it stood at the base (``make bench-ws-filed`` uses the commit the issue was
filed at).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (name, pattern on ws_chat.py's output, True when higher is better)
FIGURES: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    ("messages/s", re.compile(r"messages answered: \d+ in [\d.]+ s = ([\d.]+) messages/s"), True),
    ("ratio to pings", re.compile(r"messages/s / pings/s = ([\d.]+)"), True),
    ("pings/s", re.compile(r"ping -> pong on the same \d+ sockets, [^(]*\(mean (\d+)\)"), True),
    ("p95 ms", re.compile(r"round trip ms: p50 \d+, p95 (\d+)"), False),
    ("Daphne CPU ms/msg", re.compile(r"CPU per message: Daphne ([\d.]+) ms"), False),
    ("PostgreSQL CPU ms/msg", re.compile(r"their PostgreSQL sessions ([\d.]+) ms"), False),
)
ERRORS = re.compile(r"^\s*errors: (\d+)", re.MULTILINE)


def figures(output: str) -> dict[str, float]:
    """The figures one ws_chat.py run printed; a run that answered with errors is refused."""
    errors = ERRORS.search(output)
    if errors is None or int(errors.group(1)):
        raise ValueError(
            "the run did not finish cleanly: " + (errors.group(0).strip() if errors else "no result")
        )
    found = {}
    for name, pattern, _ in FIGURES:
        match = pattern.search(output)
        if match is not None:
            found[name] = float(match.group(1))
    if "messages/s" not in found:
        raise ValueError("the run printed no messages/s")
    return found


@dataclass(frozen=True)
class Comparison:
    name: str
    base_mean: float
    head_mean: float
    change_pct: float  # mean of the pairs' relative differences, head against base
    spread_pct: float  # their standard deviation (0 with one pair)
    better: int  # pairs in which the working tree did better
    pairs: int


def compare(base_runs: list[dict[str, float]], head_runs: list[dict[str, float]]) -> list[Comparison]:
    """Per figure, the paired comparison of runs taken in pairs (``base_runs[i]`` with ``head_runs[i]``)."""
    if len(base_runs) != len(head_runs) or not base_runs:
        raise ValueError("runs must come in pairs")
    result = []
    for name, _, higher_is_better in FIGURES:
        # A figure one run of the pair did not print (an old build's PostgreSQL CPU: its sessions, one a
        # message, are gone before they are read) or printed as zero leaves that pair out of the figure.
        pairs = [
            (b[name], h[name])
            for b, h in zip(base_runs, head_runs, strict=True)
            if b.get(name) and h.get(name)
        ]
        if not pairs:
            continue
        changes = [100 * (h - b) / b for b, h in pairs]
        better = sum(1 for b, h in pairs if (h > b if higher_is_better else h < b))
        result.append(
            Comparison(
                name=name,
                base_mean=statistics.fmean(b for b, _ in pairs),
                head_mean=statistics.fmean(h for _, h in pairs),
                change_pct=statistics.fmean(changes) if changes else 0.0,
                spread_pct=statistics.stdev(changes) if len(changes) > 1 else 0.0,
                better=better,
                pairs=len(pairs),
            )
        )
    return result


def ratios_to_base_pings(base_runs: list[dict[str, float]], head_runs: list[dict[str, float]]) -> list[float]:
    """Per pair, the working tree's messages/s over the base's ping rate (none unless every base run
    printed one)."""
    if not base_runs or not all(run.get("pings/s") for run in base_runs):
        return []
    return [head["messages/s"] / base["pings/s"] for base, head in zip(base_runs, head_runs, strict=True)]


def _run(tree: Path, messages: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "benchmarks/ws_chat.py", "--messages", str(messages)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"ws_chat.py failed in {tree} (exit {done.returncode}):\n{done.stderr[-2000:]}")
    try:
        return figures(done.stdout)
    except ValueError as exc:
        raise SystemExit(f"ws_chat.py in {tree}: {exc}") from None


def _line(label: str, run: dict[str, float]) -> str:
    return f"  {label:<12}" + "  ".join(f"{name} {run[name]:g}" for name, _, _ in FIGURES if name in run)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit (or branch, tag) to compare against")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--messages", type=int, default=24, help="messages per socket in each run")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    found = subprocess.run(
        ["git", "rev-parse", "--short", "--verify", "--quiet", f"{args.base}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        parser.error(f"--base {args.base!r} names no commit in {ROOT}")
    base_commit = found.stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-base-") as scratch:
        base_tree = Path(scratch) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(base_tree), base_commit],
            cwd=ROOT,
            check=True,
        )
        try:
            (base_tree / "var").mkdir(exist_ok=True)
            (base_tree / "benchmarks").mkdir(exist_ok=True)
            for script in (ROOT / "benchmarks").glob("*.py"):  # one measurement for both builds
                shutil.copy2(script, base_tree / "benchmarks" / script.name)
            print(f"chat benchmark, {args.pairs} alternated pairs, {args.messages} messages a socket:")
            print(f"base {base_commit} against the working tree ({ROOT})")
            base_runs: list[dict[str, float]] = []
            head_runs: list[dict[str, float]] = []
            for pair in range(args.pairs):
                order = [("base", base_tree), ("head", ROOT)]
                if pair % 2:
                    order.reverse()
                for label, tree in order:
                    run = _run(tree, args.messages)
                    (base_runs if label == "base" else head_runs).append(run)
                    print(_line(f"{label} #{pair + 1}", run), flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT, check=False)
    print("per figure: base mean -> working tree mean; the pairs' mean change ± its spread; pairs better")
    for row in compare(base_runs, head_runs):
        print(
            f"  {row.name:<22} {row.base_mean:>10.4g} -> {row.head_mean:<10.4g} {row.change_pct:+6.1f}% "
            f"± {row.spread_pct:4.1f}%   better in {row.better} of {row.pairs}"
        )
    against_base_pings = ratios_to_base_pings(base_runs, head_runs)
    if against_base_pings:
        print(
            "the working tree's messages/s / the base's pings/s, pair by pair (issue 14's ratio against the"
            f" yardstick as measured at {base_commit}): "
            + ", ".join(f"{ratio:.4f}" for ratio in against_base_pings)
            + f"; mean {statistics.fmean(against_base_pings):.4f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
