"""A request carrying a critical header twice is refused before any view, on Daphne and on gunicorn."""

from __future__ import annotations

import json

import pytest
from channels.testing import HttpCommunicator
from django.test import Client, override_settings

from commerce.testing.servers import raw_request, running_server

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b'{"quantity": 1}'
# name -> the request that repeats it (method, path, extra header lines, body)
REPEATS = {
    "host": ("GET", "/health", [("Host", "127.0.0.1")], b""),
    "content-length": (
        "POST",
        "/api/v1/cart/items",
        [("Content-Type", "application/json"), ("Content-Length", "15"), ("Content-Length", "15")],
        BODY,
    ),
    "content-type": (
        "POST",
        "/api/v1/cart/items",
        [("Content-Length", "15"), ("Content-Type", "application/json"), ("Content-Type", "text/plain")],
        BODY,
    ),
    "transfer-encoding": (
        "POST",
        "/api/v1/cart/items",
        [
            ("Content-Type", "application/json"),
            ("Transfer-Encoding", "chunked"),
            ("Transfer-Encoding", "chunked"),
        ],
        b"f\r\n" + BODY + b"\r\n0\r\n\r\n",
    ),
    "authorization": ("GET", "/health", [("Authorization", "Bearer a"), ("Authorization", "Bearer b")], b""),
    "x-session-id": ("GET", "/health", [("X-Session-Id", "s_a"), ("X-Session-Id", "s_b")], b""),
    "idempotency-key": ("GET", "/health", [("Idempotency-Key", "k1"), ("Idempotency-Key", "k2")], b""),
}
# What each server's own HTTP parser already refuses (with its own 400 page) before the app sees it.
REFUSED_BY_SERVER = {
    "daphne": {"content-length", "transfer-encoding"},
    "gunicorn": {"host", "content-length", "content-type", "transfer-encoding"},
}


def _send(port: int, name: str):
    method, path, extra, body = REPEATS[name]
    return raw_request(port, method, path, [("Host", f"127.0.0.1:{port}"), *extra], body)


@pytest.fixture(scope="module", params=["daphne", "gunicorn"])
def server(request, tmp_path_factory):
    with running_server(request.param, tmp_path_factory.mktemp(request.param)) as port:
        yield request.param, port


def test_a_request_without_repeats_goes_through(server):
    _, port = server
    answer = raw_request(port, "GET", "/health", [("Host", f"127.0.0.1:{port}"), ("X-Session-Id", "s_a")])
    assert answer.status in (200, 503)
    assert "status" in json.loads(answer.body)


@pytest.mark.parametrize("name", list(REPEATS))
def test_a_repeated_critical_header_is_refused_with_400(server, name):
    kind, port = server
    answer = _send(port, name)
    assert answer.status == 400
    if name not in REFUSED_BY_SERVER[kind]:
        error = json.loads(answer.body)["error"]
        assert error["code"] == "duplicate_header" and error["details"] == {"header": name}


def _asgi_get(headers: list[tuple[bytes, bytes]]) -> tuple[int, dict]:
    from commerce.asgi import application

    async def scenario():
        return await HttpCommunicator(application, "GET", "/health", headers=headers).get_response(timeout=10)

    from conversations.tests.conftest import run

    response = run(scenario())
    return response["status"], json.loads(response["body"])


REPEATED_SESSION = [(b"host", b"testserver"), (b"x-session-id", b"s_a"), (b"x-session-id", b"s_b")]


def test_under_asgi_each_header_line_is_counted():
    status, body = _asgi_get(REPEATED_SESSION)
    assert status == 400 and body["error"]["code"] == "duplicate_header"


@override_settings(REJECT_DUPLICATE_CRITICAL_HEADERS=False)
def test_switched_off_repeats_are_let_through():
    status, body = _asgi_get(REPEATED_SESSION)
    assert status == 200 and body["status"] in ("ok", "degraded")
    joined = Client().get("/health", HTTP_AUTHORIZATION="Bearer a,Bearer b")
    assert joined.status_code == 200


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_X_SESSION_ID", "HTTP_IDEMPOTENCY_KEY"])
def test_a_wsgi_joined_repeat_shows_as_a_comma_and_is_refused(header):
    response = Client().get("/health", **{header: "one,two"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "duplicate_header"
