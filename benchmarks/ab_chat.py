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

With ``--rounds N`` (``make bench-ws-ab BASE=<commit> ROUNDS=24``) the two builds are served side by
side instead, each by its own two Daphne processes on its own database, and the load goes to one and
then the other a round at a time (50 new guests, the six turns each; the order alternating), with each
build's pings after every pair of rounds. Both builds then meet the machine in the same state: on the
machines here its speed drifts by a factor of two within minutes (pings 6,000-17,000/s), which whole
runs taken minutes apart cannot tell from a change of code; rounds a second apart can. Each round's
Daphne CPU a message (read from /proc around it) is paired with the other build's round beside it. A
round's "ratio to pings" there divides by its build's pings measured after it (every second step, 5 s
a build), not by the mean of the pings either side as ``make bench-ws`` does: compare it between the
builds, not with bench-ws's ratio.

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
import statistics
import subprocess
import sys
from contextlib import ExitStack
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


def _interleaved(base_tree: Path, rounds: int, messages: int) -> tuple[list[dict], list[dict]]:
    """Both builds served at once; ``rounds`` rounds on each, alternated; the figures of each round."""
    import asyncio

    from common import CpuWatch  # noqa: I001 - benchmarks/ is on sys.path when run as a script
    from ws_chat import SCRIPT, chat_servers, load, percentile, ping_rate

    visit = (SCRIPT * (messages // len(SCRIPT) + 1))[:messages]
    base_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not base_url or not redis_url:
        raise SystemExit("--rounds serves both builds on PostgreSQL and Redis: set DATABASE_URL, REDIS_URL")
    runs: dict[str, list[dict[str, float]]] = {"base": [], "head": []}
    with ExitStack() as stack:
        served = {
            "base": stack.enter_context(chat_servers(base_tree, "ws_ab_base", 2, base_url, redis_url)),
            "head": stack.enter_context(chat_servers(ROOT, "ws_ab_head", 2, base_url, redis_url)),
        }
        for build in served.values():  # warm-up: pools opened, statements prepared; not counted
            asyncio.run(load(build.urls, 50, visit))
        for n in range(rounds):
            order = ["base", "head"] if n % 2 == 0 else ["head", "base"]
            for label in order:
                build = served[label]
                cpu = CpuWatch(build.pids, build.database.url)
                done = asyncio.run(load(build.urls, 50, visit, cpu))
                if done.errors or not done.latencies:
                    raise SystemExit(f"{label} round {n + 1} failed: {done.errors[:3]}")
                runs[label].append(
                    {
                        "messages/s": len(done.latencies) / done.seconds,
                        "p95 ms": percentile(done.latencies, 0.95),
                        "Daphne CPU ms/msg": done.cpu_ms[0] / len(done.latencies),
                        "PostgreSQL CPU ms/msg": done.cpu_ms[1] / len(done.latencies),
                    }
                )
            if n % 2 == 1 or n == rounds - 1:
                # Each build's pings every second step, for the rounds since the last (5 s a build).
                for label in order:
                    pings = asyncio.run(ping_rate(served[label].urls, 50))
                    for run in runs[label]:
                        run.setdefault("pings/s", pings)
                        run.setdefault("ratio to pings", run["messages/s"] / pings)
            line = "; ".join(_line(label, runs[label][-1]).strip() for label in order)
            print(f"  step {n + 1}: {line}", flush=True)
    return runs["base"], runs["head"]


def _line(label: str, run: dict[str, float]) -> str:
    return f"  {label:<12}" + "  ".join(f"{name} {run[name]:g}" for name, _, _ in FIGURES if name in run)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit (or branch, tag) to compare against")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument(
        "--messages", type=int, help="messages per socket in each run (24; with --rounds, the visit's 6)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="serve both builds side by side and alternate this many rounds on each (instead of --pairs)",
    )
    args = parser.parse_args()
    if args.pairs < 1 or args.rounds < 0:
        parser.error("--pairs must be at least 1, --rounds at least 0")
    if args.messages is None:
        args.messages = 6 if args.rounds else 24
    from common import checked_out, commit_named  # noqa: I001 - benchmarks/ is on sys.path when run as a script

    base_commit = commit_named(args.base)
    if base_commit is None:
        parser.error(f"--base {args.base!r} names no commit in {ROOT}")
    with checked_out(base_commit) as base_tree:
        base_runs: list[dict[str, float]] = []
        head_runs: list[dict[str, float]] = []
        if args.rounds:
            print(
                f"chat benchmark, both builds served side by side, {args.rounds} alternated rounds each"
                f" of 50 new guests x {args.messages} messages:"
            )
            print(f"base {base_commit} against the working tree ({ROOT})")
            base_runs, head_runs = _interleaved(base_tree, args.rounds, args.messages)
        else:
            print(f"chat benchmark, {args.pairs} alternated pairs, {args.messages} messages a socket:")
            print(f"base {base_commit} against the working tree ({ROOT})")
            for pair in range(args.pairs):
                order = [("base", base_tree), ("head", ROOT)]
                if pair % 2:
                    order.reverse()
                for label, tree in order:
                    run = _run(tree, args.messages)
                    (base_runs if label == "base" else head_runs).append(run)
                    print(_line(f"{label} #{pair + 1}", run), flush=True)
    unit = "rounds" if args.rounds else "pairs"
    print(f"per figure: base mean -> working tree mean; the {unit}' mean change ± its spread; {unit} better")
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
            + f"; mean {statistics.fmean(against_base_pings):.4f} (the target: at least 0.03)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
