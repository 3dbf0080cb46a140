"""WebSocket chat benchmark: 50 concurrent chat clients against Daphne with the Redis channel layer.

Starts one Daphne process serving ``commerce.asgi`` on a PostgreSQL database of its own
(``commerce_bench_ws`` on the server of ``DATABASE_URL``; created, migrated, loaded with the demo
catalog and store policies, dropped at the end) and the Redis of ``REDIS_URL`` as its channel layer.
Each client is a guest with its own shopper session (the socket's ``session`` event) and sends a
realistic mix of messages one after another, waiting for each answer; the time from sending a
``message`` frame to receiving its ``response`` event is measured. Also prints the understanding
time per message (rules NLU, in-process) over the labelled evaluation set.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python benchmarks/ws_chat.py [--clients 50] [--messages 8]
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
from pathlib import Path

from common import (  # noqa: I001 - benchmarks/ is on sys.path when run as a script
    LOOPBACK,
    ROOT,
    create_database,
    database_url_for,
    drop_database,
    free_port,
    running_server,
)

BENCH_DB = "commerce_bench_ws"
# One shopper's visit: what people do in the panel, in order (references need the search before them).
SCRIPT = [
    "hi",
    "show me running shoes under $150",
    "add the first one",
    "size 10",
    "what's in my cart?",
    "what is your return policy?",
    "show me hoodies in black",
    "thanks",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def shopper(url: str, messages: list[str], latencies: list[float], errors: list[str]) -> None:
    import websockets

    async with websockets.connect(url, origin=f"http://{LOOPBACK}", max_size=2**22) as socket:
        first = json.loads(await socket.recv())
        if first["type"] != "session":
            errors.append(f"first event {first['type']}")
            return
        for text in messages:
            started = time.perf_counter()
            await socket.send(json.dumps({"type": "message", "payload": {"content": text}}))
            while True:
                event = json.loads(await asyncio.wait_for(socket.recv(), timeout=60))
                if event["type"] == "ping":
                    await socket.send(json.dumps({"type": "pong", "payload": {}}))
                elif event["type"] == "response":
                    latencies.append((time.perf_counter() - started) * 1000)
                    break
                elif event["type"] == "error":
                    errors.append(event["payload"].get("code", "error"))
                    break


async def load(url: str, clients: int, messages: list[str]) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    results = await asyncio.gather(
        *(shopper(url, messages, latencies, errors) for _ in range(clients)), return_exceptions=True
    )
    errors.extend(f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException))
    return latencies, errors, time.perf_counter() - started


def understanding_timing() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex)  # the NLU reads no secrets or rows
    import django

    django.setup()
    from conversations.tests.nl_eval.evaluate import format_timing, load_cases, timing

    cases = load_cases()
    return f"{len(cases)} labelled messages: " + format_timing(timing(cases))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=len(SCRIPT), help="messages per client")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()
    base_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not base_url or not redis_url:
        print(
            "The WebSocket benchmark measures the production shape: set DATABASE_URL (PostgreSQL) and "
            "REDIS_URL, e.g.\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce "
            "REDIS_URL=redis://127.0.0.1:6379/0 make bench-ws",
            file=sys.stderr,
        )
        return 2
    messages = (SCRIPT * (args.messages // len(SCRIPT) + 1))[: args.messages]
    db_url = database_url_for(base_url, BENCH_DB)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "DB_CONN_MAX_AGE": "0",
        "DJANGO_SETTINGS_MODULE": "commerce.settings",
        "ALLOWED_HOSTS": f"{LOOPBACK},localhost",
    }
    py = sys.executable
    create_database(base_url, BENCH_DB)
    try:
        for command in (
            ["migrate", "-v", "0"],
            ["load_catalog", "catalog/demo/demo_catalog.json"],
            ["load_store_policies"],
        ):
            subprocess.run(
                [py, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
            )
        port = free_port()
        daphne = str(Path(py).parent / "daphne")
        with running_server(
            "daphne-ws",
            [daphne, "-b", LOOPBACK, "-p", str(port), "commerce.asgi:application"],
            port=port,
            env=env,
            log_dir=ROOT / "var" / "bench",
            ready_path="/health",
        ):
            url = f"ws://{LOOPBACK}:{port}/ws/chat/"
            asyncio.run(load(url, 2, messages[:3]))  # warm-up: imports, first queries, caches
            latencies, errors, seconds = asyncio.run(load(url, args.clients, messages))
    finally:
        if not args.keep_database:
            drop_database(base_url, BENCH_DB)

    print(
        f"served by: 1 Daphne process, channel layer RedisPubSubChannelLayer ({redis_url}), "
        f"PostgreSQL database {BENCH_DB}, DB_CONN_MAX_AGE=0; {os.cpu_count()} CPUs shared with the clients"
    )
    print(f"{args.clients} concurrent chat clients x {len(messages)} messages each (send -> response event)")
    if latencies:
        print(
            f"  messages answered: {len(latencies)} in {seconds:.1f} s"
            f" = {len(latencies) / seconds:.1f} messages/s"
        )
        print(
            "  round trip ms: "
            f"p50 {percentile(latencies, 0.50):.0f}, p95 {percentile(latencies, 0.95):.0f}, "
            f"p99 {percentile(latencies, 0.99):.0f}, max {max(latencies):.0f}, "
            f"mean {statistics.fmean(latencies):.0f}"
        )
    print(f"  errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print("understanding (NLU) per message, in-process: " + understanding_timing())
    return 1 if errors or not latencies else 0


if __name__ == "__main__":
    sys.exit(main())
