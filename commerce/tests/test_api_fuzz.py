"""``make api-fuzz`` is a CI gate: a finding must make the runner exit non-zero, a clean run zero.

The runner's own schemathesis step (the same command, configuration and ``--checks all``) is pointed at
a stub site on loopback whose one operation either answers as documented or fails with a 500.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from commerce.testing import api_fuzz

SCHEMA = {
    "openapi": "3.0.3",
    "info": {"title": "stub", "version": "1"},
    "paths": {
        "/api/v1/ping": {
            "get": {
                "operationId": "ping",
                "responses": {
                    "200": {
                        "description": "pong",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        }
    },
}


def _handler(broken: bool) -> type[BaseHTTPRequestHandler]:
    class Stub(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            if status == 405:
                self.send_header("Allow", "GET")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?")[0]
            if path == "/api/schema/":
                self._answer(200, SCHEMA)
            elif path == "/api/v1/ping":
                self._answer(500, {"error": "boom"}) if broken else self._answer(200, {})
            else:
                self._answer(404, {})

        def __getattr__(self, name: str) -> object:
            # Every other method (POST, TRACE, QUERY, ...) is 405 with Allow, as the check wants.
            if name.startswith("do_"):
                return lambda: self._answer(405, {})
            raise AttributeError(name)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
            """Quiet: pytest shows the runner's own output."""

    return Stub


@contextmanager
def _stub_site(*, broken: bool) -> Iterator[str]:
    # The port the runner's site would use (API_FUZZ_PORT), else any free one.
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("API_FUZZ_PORT", 0))), _handler(broken))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _run(base: str, tmp_path: Path) -> int:
    args = argparse.Namespace(max_examples=2, seed=api_fuzz.DEFAULT_SEED, schemathesis_args=[])
    shopper = {"API_FUZZ_EMAIL": "stub@example.com", "API_FUZZ_PASSWORD": "not-used"}
    return api_fuzz._schemathesis(base, shopper, args, tmp_path / "report")


@pytest.mark.parametrize(("broken", "fails"), [(True, True), (False, False)])
def test_the_runner_exits_non_zero_on_a_finding_and_zero_on_a_clean_run(tmp_path, broken, fails):
    with _stub_site(broken=broken) as base:
        code = _run(base, tmp_path)

    assert (code != 0) is fails
