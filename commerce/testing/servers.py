"""Real servers for tests that need one: Daphne (ASGI) or gunicorn (WSGI) in a subprocess, and raw HTTP.

The in-process Daphne of :mod:`commerce.testing.asgi_server` shares the test database; these do not
(they use the environment's database, or a throwaway SQLite file on the embedded run), so they suit
tests of what happens before any view runs: header checks, the server's own parsing.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The ports this suite's servers may take (18699 stays closed: the "cache unreachable" tests use it).
PORTS = range(18600, 18699)
START_TIMEOUT_SECONDS = 40


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _command(kind: str, port: int) -> list[str]:
    bin_dir = Path(sys.executable).parent
    if kind == "daphne":
        return [str(bin_dir / "daphne"), "-b", "127.0.0.1", "-p", str(port), "commerce.asgi:application"]
    if kind == "gunicorn":
        return [str(bin_dir / "gunicorn"), "commerce.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1"]
    raise ValueError(kind)


@contextmanager
def running_server(kind: str, tmp_dir: Path, **env: str) -> Iterator[int]:
    """Starts ``daphne`` or ``gunicorn`` serving the project on a free port; yields the port."""
    port = _free_port()
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "commerce.settings", **env}
    environment.setdefault("SQLITE_PATH", str(tmp_dir / "server.sqlite3"))
    log = (tmp_dir / f"{kind}.log").open("w")
    process = subprocess.Popen(
        _command(kind, port), env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=Path.cwd()
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{kind} exited: {(tmp_dir / f'{kind}.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{kind} did not listen on {port}") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def raw_request(
    port: int, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b""
) -> Answer:
    """Sends exactly these header lines (repeats included, which http.client's API would not allow)."""
    lines = [
        f"{method} {path} HTTP/1.1",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=15) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin1") + body)
        response = http.client.HTTPResponse(connection)
        response.begin()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
