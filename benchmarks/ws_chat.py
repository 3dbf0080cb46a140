"""WebSocket chat benchmark: 50 concurrent chat clients against Daphne with the Redis channel layer.

Starts ``--processes`` Daphne processes (default 2, the issue's shape) serving ``commerce.asgi`` (with
the bare socket ``/ws/bench/echo/`` of benchmarks/bench_asgi.py beside it, a second yardstick) on a
PostgreSQL database of their own (``<name>_ws_bench`` on the server of ``DATABASE_URL``; created,
migrated, loaded with the demo catalog and store policies, dropped at the end), all on the Redis of
``REDIS_URL`` as channel layer and cache. Each client is a guest with its own shopper session (the
socket's ``session`` event), connected to one of the processes in turn, and sends a shopper's visit one
message at a time, waiting for each answer; the time from sending a ``message`` frame to receiving its
``response`` event is measured, overall and per kind of message. A client whose cart is empty when it
asks for it counts as a failure: the benchmark must measure the assistant doing the work, not answering
"sorry". Also prints the understanding time per message (rules NLU, in-process) over the labelled
evaluation set.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python benchmarks/ws_chat.py [--clients 50] [--messages 8] [--processes 1]

The messages run in ``--rounds`` rounds (3), each with new guests, and ``ping`` -> ``pong`` is measured
before the first round and after each: the ratio is printed for the rounds together (their messages
over their time, over the mean ping rate) and round by round (against the pings either side of it). One
round of the issue's six turns lasts one to two seconds, too short for one ratio to say much alone.
A first round, before the pings, warms the servers up (their pools' connections opened, statements
prepared) and is printed but not counted.

Without ``DATABASE_URL`` (PostgreSQL) or ``REDIS_URL`` it says what it needs and exits with status 2:
an in-memory channel layer and SQLite would measure a shape that is never deployed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from common import (  # noqa: I001 - benchmarks/ is on sys.path when run as a script
    LOOPBACK,
    ROOT,
    CpuWatch,
    bench_database_name,
    create_database,
    database_url_for,
    drop_database,
    free_port,
    running_server,
)

RESPONSE_TIMEOUT_SECONDS = 60
# One shopper's visit, issue 14's six ordinary turns in order: a search, an add with a size (by
# reference to the search), the cart, a policy question, another search, "make it 2" (the line added).
SCRIPT = [
    ("search", "show me running shoes under $150"),
    ("add with a size", "add the first one in size 10 in white"),
    ("view cart", "what's in my cart?"),
    ("policy question", "what is your return policy?"),
    ("search", "show me hoodies in black"),
    ("make it 2", "make it 2"),
]


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    carts_viewed: int = 0
    carts_with_items: int = 0
    seconds: float = 0.0
    cpu_ms: list[float] = field(default_factory=list)  # Daphne processes, their PostgreSQL sessions


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def shopper(
    url: str, messages: list[tuple[str, str]], results: Results, ready: list[bool], go: asyncio.Event
) -> None:
    import websockets

    opened = False
    try:
        socket = await websockets.connect(url, origin=f"http://{LOOPBACK}", max_size=2**22)
        opened = True
    finally:
        if not opened:  # counted as ready-but-failed so the clock still starts; gather() reports why
            ready.append(False)
    async with socket:
        first = json.loads(await socket.recv())
        ready.append(first["type"] == "session")
        if first["type"] != "session":
            results.errors.append(f"first event {first['type']}")
            return
        await go.wait()  # every socket open: the messages are timed from here
        for kind, text in messages:
            started = time.perf_counter()
            await socket.send(json.dumps({"type": "message", "payload": {"content": text}}))
            while True:
                event = json.loads(await asyncio.wait_for(socket.recv(), timeout=RESPONSE_TIMEOUT_SECONDS))
                if event["type"] == "ping":
                    await socket.send(json.dumps({"type": "pong", "payload": {}}))
                elif event["type"] == "response":
                    elapsed = (time.perf_counter() - started) * 1000
                    results.latencies.append(elapsed)
                    results.by_kind[kind].append(elapsed)
                    if kind == "view cart":
                        results.carts_viewed += 1
                        cart = event["payload"].get("cart") or {}
                        results.carts_with_items += bool(cart.get("itemCount"))
                    break
                elif event["type"] == "error":
                    results.errors.append(event["payload"].get("code", "error"))
                    break


async def load(
    urls: list[str], clients: int, messages: list[tuple[str, str]], cpu: CpuWatch | None = None
) -> Results:
    """``clients`` shoppers at once, spread over the servers in turn; with ``cpu``, the CPU those
    processes used while the messages ran (a figure the machine's other load moves far less than
    latency)."""
    results = Results()
    ready: list[bool] = []
    go = asyncio.Event()
    running = asyncio.gather(
        *(shopper(urls[i % len(urls)], messages, results, ready, go) for i in range(clients)),
        return_exceptions=True,
    )
    # Opening 50 sockets (a guest session each) is not a message: the clock starts once all are open.
    deadline = time.perf_counter() + RESPONSE_TIMEOUT_SECONDS
    while len(ready) < clients and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    with cpu or nullcontext():
        started = time.perf_counter()
        go.set()
        outcomes = await running
        results.seconds = time.perf_counter() - started
    if cpu:
        results.cpu_ms = cpu.used[:2]
    results.errors.extend(f"{type(r).__name__}: {r}" for r in outcomes if isinstance(r, BaseException))
    return results


def merged(rounds: list[Results]) -> Results:
    """The rounds as one run: every message's latency, the time and CPU of the rounds added up."""
    whole = Results(cpu_ms=[0.0, 0.0])
    for done in rounds:
        whole.latencies += done.latencies
        for kind, values in done.by_kind.items():
            whole.by_kind[kind] += values
        whole.errors += done.errors
        whole.carts_viewed += done.carts_viewed
        whole.carts_with_items += done.carts_with_items
        whole.seconds += done.seconds
        whole.cpu_ms = [a + b for a, b in zip(whole.cpu_ms, done.cpu_ms or [0.0, 0.0], strict=True)]
    return whole


def round_ratios(rounds: list[Results], pings: list[float]) -> list[float]:
    """Each round's messages/s over the mean of the ping rates measured just before and just after it
    (``pings`` has one more rate than there are rounds)."""
    if len(pings) != len(rounds) + 1:
        raise ValueError(f"{len(rounds)} rounds need {len(rounds) + 1} ping rates, not {len(pings)}")
    return [
        len(done.latencies) / done.seconds / ((pings[n] + pings[n + 1]) / 2) if done.seconds else 0.0
        for n, done in enumerate(rounds)
    ]


PING_SECONDS = 5.0


async def pinger(
    url: str, seconds: float, counts: list[int], ask: str = "ping", answer: str = "pong"
) -> None:
    """One socket sending ``ask`` and waiting for ``answer``, back to back, for ``seconds``: a yardstick.
    ``ping`` -> ``pong`` on the chat socket: a round trip through Daphne, the consumer and the channel
    layer's connection, no database. ``message`` -> ``response`` on ``/ws/bench/echo/``
    (benchmarks/bench_asgi.py): the same plus one worker hop with one small query."""
    import websockets

    frame = json.dumps({"type": ask, "payload": {"content": "hello"} if ask == "message" else {}})
    async with websockets.connect(url, origin=f"http://{LOOPBACK}") as socket:
        await socket.recv()  # the session event
        done, stop_at = 0, time.perf_counter() + seconds
        while time.perf_counter() < stop_at:
            await socket.send(frame)
            while json.loads(await socket.recv())["type"] != answer:
                pass
            done += 1
        counts.append(done)


async def ping_rate(urls: list[str], clients: int, ask: str = "ping", answer: str = "pong") -> float:
    counts: list[int] = []
    await asyncio.gather(
        *(pinger(urls[i % len(urls)], PING_SECONDS, counts, ask, answer) for i in range(clients))
    )
    return sum(counts) / PING_SECONDS


def understanding_timing() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex)  # the NLU reads no secrets or rows
    import django

    django.setup()
    from conversations.tests.nl_eval.evaluate import format_timing, load_cases, timing

    cases = load_cases()
    return f"{len(cases)} labelled messages, 5 rounds: " + format_timing(timing(cases))


def service_versions(base_url: str, redis_url: str) -> str:
    import psycopg
    import redis

    with psycopg.connect(database_url_for(base_url, "postgres")) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
        # Off, tables the run fills are never analysed while it runs (the catalog is: load_catalog does it).
        autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]
    client = redis.Redis.from_url(redis_url)
    try:
        redis_version = client.info("server")["redis_version"]
    finally:
        client.close()
    return f"PostgreSQL {postgres} (autovacuum {autovacuum}), Redis {redis_version}"


def statements_per_message(env: dict[str, str]) -> list[dict]:
    """benchmarks/chat_queries.py on the benchmark's database, in a process with the servers' settings."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("chat_queries.py"))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


@dataclass
class ChatDatabase:
    """A build's own benchmark database (``chat_database``) and the environment its processes run with."""

    name: str
    url: str
    env: dict[str, str]


@dataclass
class ChatServers:
    """One build's chat servers (``chat_servers``): their socket URLs, processes and database."""

    urls: list[str]  # /ws/chat/, one per process
    bare_urls: list[str]  # /ws/bench/echo/
    pids: list[int]
    database: ChatDatabase  # and the servers' environment (statements_per_message runs with it)
    stack: ExitStack

    def stop(self) -> None:
        """Stops the processes now (the database stays until the ``with`` ends)."""
        self.stack.close()


@contextmanager
def chat_database(
    tree: Path, suffix: str, base_url: str, redis_url: str, *, keep_database: bool = False
) -> Iterator[ChatDatabase]:
    """A PostgreSQL database of ``tree``'s own, ``<name>_<suffix>`` on the server of ``base_url``: created,
    migrated by that code, loaded with the demo catalog and store policies, and dropped on the way out
    (unless ``keep_database``); with the environment the chat runs with on it: the production shape (the
    Redis channel layer and cache on ``redis_url``, a connection pool of 8 per process, as docker-compose's
    ws service), no per-address connect limit, cache keys and channel-layer names prefixed
    ``bench-<suffix>``."""
    database = bench_database_name(base_url, suffix)
    database_url = database_url_for(base_url, database)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH", "")])),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Two builds served at once (make bench-ws-ab ROUNDS=) share the Redis: keys of their own, so
        # neither reads the other's cached pages or hears the other's channel-layer events.
        "CACHE_KEY_PREFIX": f"bench-{suffix}",
        "CHANNEL_LAYER_PREFIX": f"bench-{suffix}",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "DB_CONN_MAX_AGE": "0",
        "DB_POOL_MAX_SIZE": "8",  # as docker-compose's ws service
        "DJANGO_SETTINGS_MODULE": "commerce.settings",
        "ALLOWED_HOSTS": f"{LOOPBACK},localhost",
        # Every simulated shopper connects from the loopback address: the per-address guest connect
        # limit would refuse all but the first 20 (the per-session message limit stays on).
        "CHAT_GUEST_CONNECTS_PER_MINUTE": "0",
    }
    create_database(base_url, database)
    try:
        for command in (
            ["migrate", "-v", "0"],
            ["load_catalog", "catalog/demo/demo_catalog.json"],
            ["load_store_policies"],
        ):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=tree,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        yield ChatDatabase(name=database, url=database_url, env=env)
    finally:
        if not keep_database:
            drop_database(base_url, database)


@contextmanager
def chat_servers(
    tree: Path, suffix: str, processes: int, base_url: str, redis_url: str, *, keep_database: bool = False
) -> Iterator[ChatServers]:
    """``processes`` Daphne processes serving ``tree``'s code (``benchmarks.bench_asgi``) on a database of
    their own (``chat_database``)."""
    with chat_database(tree, suffix, base_url, redis_url, keep_database=keep_database) as db:
        daphne = str(Path(sys.executable).parent / "daphne")
        with ExitStack() as stack:
            servers = []
            for n in range(processes):
                port = free_port()
                servers.append(
                    stack.enter_context(
                        running_server(
                            f"daphne-{suffix}-{n + 1}",
                            [daphne, "-b", LOOPBACK, "-p", str(port), "benchmarks.bench_asgi:application"],
                            port=port,
                            env=db.env,
                            log_dir=ROOT / "var" / "bench",
                            ready_path="/health",
                            cwd=tree,
                        )
                    )
                )
            yield ChatServers(
                urls=[f"ws://{LOOPBACK}:{s.port}/ws/chat/" for s in servers],
                bare_urls=[f"ws://{LOOPBACK}:{s.port}/ws/bench/echo/" for s in servers],
                pids=[s.process.pid for s in servers],
                database=db,
                stack=stack,
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=len(SCRIPT), help="messages per client")
    parser.add_argument(
        "--processes", type=int, default=2, help="Daphne processes sharing the Redis layer (issue 14: 2)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of fresh guests, each between two ping measurements"
    )
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()
    base_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not base_url or not redis_url:
        print(
            "The WebSocket benchmark measures the production shape and needs both services: set\n"
            "DATABASE_URL (PostgreSQL on a loopback address; the script uses a database of its own on that\n"
            "server, <its name>_ws_bench) and REDIS_URL (the channel layer and cache), e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce "
            "REDIS_URL=redis://127.0.0.1:6379/0 make bench-ws",
            file=sys.stderr,
        )
        return 2
    messages = (SCRIPT * (args.messages // len(SCRIPT) + 1))[: args.messages]
    versions = service_versions(base_url, redis_url)
    with chat_servers(
        ROOT, "ws_bench", args.processes, base_url, redis_url, keep_database=args.keep_database
    ) as served:
        # Warm-up, not counted: a whole round of the visit. A smaller one (4 guests, 3 messages) left the
        # first measured round opening most of the pools' connections and running each statement on
        # them unprepared (DB_PREPARE_THRESHOLD): 4-21% slower than the rounds after it.
        warm_up = asyncio.run(load(served.urls, args.clients, messages))
        load_before = load_average()
        # Rounds of fresh guests, each between two ping measurements: one round of the six turns
        # lasts one to two seconds, and its ratio alone spread 0.022-0.031 from run to run.
        pings = [asyncio.run(ping_rate(served.urls, args.clients))]
        rounds: list[Results] = []
        for _ in range(args.rounds):
            cpu = CpuWatch(served.pids, served.database.url)
            rounds.append(asyncio.run(load(served.urls, args.clients, messages, cpu)))
            pings.append(asyncio.run(ping_rate(served.urls, args.clients)))
        results = merged(rounds)
        bare = asyncio.run(ping_rate(served.bare_urls, args.clients, "message", "response"))
        load_after = load_average()
        served.stop()
        per_message = statements_per_message(served.database.env)
    bench_db = served.database.name

    pids = ", ".join(str(pid) for pid in served.pids)
    print(
        f"served by: {args.processes} Daphne process(es) (pid {pids}) serving commerce.asgi "
        f"(+ /ws/bench/echo/), channel layer RedisPubSubChannelLayer and cache on {redis_url}, "
        f"PostgreSQL database {bench_db} (DB_CONN_MAX_AGE=0); {versions}"
    )
    print(
        f"machine: {os.cpu_count()} CPUs shared by the server(s), PostgreSQL, Redis and the clients; "
        f"load average (1/5/15 min) {load_before} before the load, {load_after} after"
    )
    print(
        f"{args.clients} concurrent chat clients (asyncio, websockets), each a guest with its own session, "
        f"x {len(messages)} messages in turn (send -> response event), in {args.rounds} round(s) of new"
        " guests"
    )
    if results.latencies:
        lat = results.latencies
        print(
            f"  messages answered: {len(lat)} in {results.seconds:.1f} s"
            f" = {len(lat) / results.seconds:.1f} messages/s (the rounds together, each timed once all its"
            " sockets were open)"
        )
        ping_mean = statistics.fmean(pings)
        print(
            f"  ping -> pong on the same {args.clients} sockets, before and after each round: "
            + ", ".join(f"{rate:.0f}" for rate in pings)
            + f" round trips/s (mean {ping_mean:.0f}); messages/s / pings/s ="
            f" {len(lat) / results.seconds / ping_mean:.4f} (issue 14's target: at least 0.03)"
        )
        each = round_ratios(rounds, pings)
        for n, (done, ratio) in enumerate(zip(rounds, each, strict=True), 1):
            print(
                f"    round {n}: {len(done.latencies)} messages in {done.seconds:.2f} s ="
                f" {len(done.latencies) / done.seconds:.1f} messages/s, p95"
                f" {percentile(done.latencies, 0.95):.0f} ms; / the pings either side"
                f" ({pings[n - 1]:.0f}, {pings[n]:.0f}) = {ratio:.4f}"
            )
        median, low, high = statistics.median(each), min(each), max(each)
        print(f"    the rounds' ratios: median {median:.4f}, {low:.4f}-{high:.4f}")
        if warm_up.seconds:
            print(
                f"    (the warm-up round before them, a server just started: {len(warm_up.latencies)}"
                f" messages in {warm_up.seconds:.2f} s ="
                f" {len(warm_up.latencies) / warm_up.seconds:.1f} messages/s,"
                f" {len(warm_up.errors)} errors; not counted)"
            )
        print(
            f"  a bare message on the same servers (/ws/bench/echo/: one worker hop, one small query, one"
            f" frame back): {bare:.0f} round trips/s = {bare / ping_mean:.3f}x pings; chat messages/s / bare"
            f" = {len(lat) / results.seconds / bare:.3f}"
        )
        print(
            f"  round trip ms: p50 {percentile(lat, 0.50):.0f}, p95 {percentile(lat, 0.95):.0f}, "
            f"p99 {percentile(lat, 0.99):.0f}, max {max(lat):.0f}, mean {statistics.fmean(lat):.0f}"
        )
        daphne_ms, postgres_ms = (ms / len(lat) for ms in results.cpu_ms)
        # A build without the connection pool opens a PostgreSQL session per message, gone before its
        # CPU can be read: none is seen, which is not the same as none used.
        database = (
            f"their PostgreSQL sessions {postgres_ms:.1f} ms"
            if postgres_ms
            else "their PostgreSQL sessions not measured (each closed before it could be read)"
        )
        print(
            f"  CPU per message: Daphne {daphne_ms:.1f} ms (all processes), {database}; {os.cpu_count()} CPUs"
            f" allow at most {os.cpu_count() * 1000 / (daphne_ms + postgres_ms):.0f} messages/s at that cost"
        )
        for kind, values in results.by_kind.items():
            print(
                f"    {kind:17} {len(values):4} messages: p50 {percentile(values, 0.50):5.0f} ms, "
                f"p95 {percentile(values, 0.95):5.0f} ms"
            )
    print(f"  errors: {len(results.errors)}" + (f" (first: {results.errors[0]})" if results.errors else ""))
    if results.carts_viewed:
        print(
            f"  work done: {results.carts_with_items}/{results.carts_viewed} carts held the shoe "
            "when the shopper asked for the cart"
        )
    print("per message, in process (one guest socket, the second of two visits; every SQL statement):")
    for row in per_message:
        print(
            f"    {row['kind']:17} intent {row['intent']:22} {row['statements']:3} statements"
            f"  {row['ms']:6.1f} ms  ({row['text']})"
        )
    print("understanding (NLU) per message, in-process: " + understanding_timing())
    failed = results.errors or not results.latencies or results.carts_with_items < results.carts_viewed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
