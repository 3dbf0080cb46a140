"""A chat turn's cost in instructions, a commit against the working tree:
``make bench-ws-instructions BASE=<commit> [VISITS=10 RUNS=2]``.

The socket benchmarks time the chat in seconds, and on the 2-core machines here a round's CPU a message
spreads ±10-15% (the machine's speed drifts by a factor of two within minutes), so a change of 2-3%
needs dozens of side-by-side rounds to show, if it shows at all. This counts instructions instead
(valgrind's callgrind), which do not depend on what else the machine is doing: two runs of the same
code agree to about 0.1%.

Each build (``BASE`` checked out into a temporary git worktree, and the working tree) gets its own
database (``ws_chat.chat_database``: migrated by that build, the demo catalog, the store policies) and
plays the benchmark's visit (``ws_chat.SCRIPT``, issue 14's six turns) in one process under callgrind:
``benchmarks/chat_queries.py``'s socket on ``commerce.asgi`` in process, with the real channel layer,
cache (Redis) and PostgreSQL. One visit first, not counted (imports, compiled rules, per-process
caches), then callgrind is switched on (``callgrind_control -i on``) for ``VISITS`` visits, each a new
guest. ``PYTHONHASHSEED=0`` fixes Python's hashing. The builds alternate, ``RUNS`` each. The first
visits after the warm one still fill per-process caches, so the figure a message falls as ``VISITS``
grows (19.5 million at 2, 12.7 at 10 on the code of 2026-12-07): compare builds at the same ``VISITS``.

What it counts is the process's own work for a visit: the consumer, the turn, the client's side of
the socket; not Daphne's WebSocket framing, PostgreSQL's or Redis' own work (other processes), nor
time spent waiting; nor the database connection's checkout and return around each worker hop
(Channels' test communicator turns ``close_old_connections`` into a no-op, so a connection stays
with its thread). Daphne itself under callgrind, driven by a socket client, counts all of that, but
two runs of the same code there differed by 1.5% (threads, the pool, the collector), against 0.1-0.2%
here. It tells whether a change made a message's work smaller, not what a server
serves: for that, ``make bench-ws`` and ``make bench-ws-ab``. Needs valgrind (``apt-get install
valgrind``), DATABASE_URL (PostgreSQL) and REDIS_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTED = re.compile(r"^summary: (\d+)$", re.MULTILINE)


def _child(visits: int) -> None:
    """In the build's process under callgrind: a visit to warm, then ``visits`` visits counted."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
    import django

    django.setup()
    from chat_queries import visit  # noqa: PLC0415 - benchmarks/ is on sys.path when run as a script
    from ws_chat import SCRIPT  # noqa: PLC0415

    statements: Counter = Counter()
    asyncio.run(visit(SCRIPT, statements))

    async def counted() -> None:
        for _ in range(visits):
            await visit(SCRIPT, statements)

    subprocess.run(
        ["callgrind_control", "--instr=on", str(os.getpid())], check=True, stdout=subprocess.DEVNULL
    )
    asyncio.run(counted())


def _instructions(tree: Path, env: dict[str, str], visits: int) -> int:
    """The instructions ``visits`` visits took in ``tree``'s code (one process under callgrind)."""
    with tempfile.TemporaryDirectory(prefix="callgrind-") as scratch:
        out = Path(scratch) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                str(tree / "benchmarks" / "chat_instructions.py"),
                "--child",
                str(visits),
            ],
            cwd=tree,
            env={**env, "PYTHONHASHSEED": "0", "LOG_LEVEL": "WARNING"},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        found = COLLECTED.search(out.read_text(errors="replace"))
    if found is None or int(found.group(1)) == 0:
        raise RuntimeError(f"callgrind counted nothing for {tree} (was instrumentation switched on?)")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="the commit (or branch, tag) to compare against")
    parser.add_argument("--visits", type=int, default=10, help="visits counted in each run")
    parser.add_argument("--runs", type=int, default=2, help="runs of each build, alternated")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.child)
        return 0
    from common import checked_out, commit_named  # noqa: PLC0415
    from ws_chat import SCRIPT, chat_database  # noqa: PLC0415

    base_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not base_url or not redis_url or shutil.which("valgrind") is None:
        print(
            "Needs valgrind (apt-get install valgrind), DATABASE_URL (PostgreSQL; a database of its own is\n"
            "made beside it for each build) and REDIS_URL, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce \\\n"
            "  REDIS_URL=redis://127.0.0.1:6379/0 make bench-ws-instructions BASE=HEAD~1",
            file=sys.stderr,
        )
        return 2
    if not args.base or args.visits < 1 or args.runs < 1:
        parser.error("--base is required; --visits and --runs at least 1")
    base_commit = commit_named(args.base)
    if base_commit is None:
        parser.error(f"--base {args.base!r} names no commit in {ROOT}")
    messages = args.visits * len(SCRIPT)
    print(
        f"chat instructions (callgrind), {args.visits} visits of {len(SCRIPT)} messages a run,"
        f" {args.runs} runs a build: base {base_commit} against the working tree ({ROOT})"
    )
    counts: dict[str, list[int]] = {"base": [], "head": []}
    print(
        "  checking out the base and preparing a database for each build (migrate, demo catalog) ...",
        flush=True,
    )
    with (
        checked_out(base_commit) as base_tree,
        chat_database(base_tree, "instr_base", base_url, redis_url) as base_db,
        chat_database(ROOT, "instr_head", base_url, redis_url) as head_db,
    ):
        builds = {"base": (base_tree, base_db.env), "head": (ROOT, head_db.env)}
        for run in range(args.runs):
            order = ["base", "head"] if run % 2 == 0 else ["head", "base"]
            for label in order:
                tree, env = builds[label]
                counts[label].append(_instructions(tree, env, args.visits))
                print(
                    f"  run {run + 1} {label}: {counts[label][-1]:,} instructions"
                    f" = {counts[label][-1] / messages / 1e6:.2f} million a message",
                    flush=True,
                )
    base, head = statistics.fmean(counts["base"]), statistics.fmean(counts["head"])
    spread = (
        max((max(c) - min(c)) / statistics.fmean(c) * 100 for c in counts.values() if len(c) > 1)
        if args.runs > 1
        else 0.0
    )
    print(
        f"a message: base {base / messages / 1e6:.3f} -> working tree {head / messages / 1e6:.3f} million"
        f" instructions ({(head - base) / base * 100:+.2f}%; runs of one build spread up to {spread:.2f}%)"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
