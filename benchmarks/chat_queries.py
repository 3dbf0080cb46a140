"""SQL statements and in-process time per chat message, by kind of message (issue 14: "queries per
message counted and printed per intent").

Run by ``benchmarks/ws_chat.py`` against its own database (the same settings as its Daphne processes),
or alone with the same environment:

    DATABASE_URL=postgres://.../commerce_ws_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python benchmarks/chat_queries.py

One guest socket (Channels' WebsocketCommunicator on ``commerce.asgi``, in this process) plays the
benchmark's visit twice; the second visit is measured (the first fills per-process caches, as a running
server has them). Every statement on any connection of the process is counted (the socket's database
work runs in a worker thread), including transaction control that Django sends as SQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESPONSE_TIMEOUT_SECONDS = 30


def _count_statements() -> Counter:
    """Counts every statement Django sends, on every connection and thread."""
    from django.db.backends import utils

    counter: Counter = Counter()
    execute, executemany = utils.CursorWrapper._execute, utils.CursorWrapper._executemany

    def counted_execute(self, sql, params, *rest):
        counter["statements"] += 1
        return execute(self, sql, params, *rest)

    def counted_executemany(self, sql, param_list, *rest):
        counter["statements"] += 1
        return executemany(self, sql, param_list, *rest)

    utils.CursorWrapper._execute = counted_execute
    utils.CursorWrapper._executemany = counted_executemany
    return counter


async def visit(script: list[tuple[str, str]], counter: Counter) -> list[dict]:
    from channels.testing import WebsocketCommunicator

    from commerce.asgi import application

    host = os.environ.get("ALLOWED_HOSTS", "127.0.0.1").split(",")[0]
    socket = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"origin", f"http://{host}".encode()), (b"host", host.encode())]
    )
    connected, _ = await socket.connect()
    assert connected, "the socket was refused"
    await socket.receive_json_from(timeout=RESPONSE_TIMEOUT_SECONDS)  # session
    rows = []
    for kind, text in script:
        counter["statements"] = 0
        started = time.perf_counter()
        await socket.send_json_to({"type": "message", "payload": {"content": text, "stream": False}})
        while True:
            event = await socket.receive_json_from(timeout=RESPONSE_TIMEOUT_SECONDS)
            if event["type"] in ("response", "error"):
                break
        rows.append(
            {
                "kind": kind,
                "text": text,
                "intent": event["payload"].get("intent", event["payload"].get("code", "")),
                "statements": counter["statements"],
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
        )
    await socket.disconnect()
    return rows


def measure(script: list[tuple[str, str]]) -> list[dict]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
    import django

    django.setup()
    counter = _count_statements()
    asyncio.run(visit(script, counter))  # warm: imports, compiled rules, cached searches
    return asyncio.run(visit(script, counter))


def main() -> int:
    from ws_chat import SCRIPT  # noqa: PLC0415 - the benchmark's own visit

    rows = measure(SCRIPT)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
