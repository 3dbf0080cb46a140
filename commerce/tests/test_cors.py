"""CORS for /api/v1/ (django-cors-headers) and the chat socket's Origin check, both from CORS_ORIGINS."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings

from conversations.tests.conftest import TIMEOUT, run

SHOP = "https://shop.example.com"
pytestmark = pytest.mark.django_db


@override_settings(CORS_ALLOWED_ORIGINS=[SHOP])
def test_a_preflight_from_a_listed_origin_is_answered_with_credentials_and_the_store_headers():
    response = Client().options(
        "/api/v1/cart/items",
        HTTP_ORIGIN=SHOP,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, x-session-id, idempotency-key",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert response["Access-Control-Allow-Credentials"] == "true"
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-session-id", "idempotency-key"} <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]


@override_settings(CORS_ALLOWED_ORIGINS=[SHOP])
def test_an_api_answer_to_a_listed_origin_exposes_session_retry_and_request_id():
    response = Client().get("/api/v1/products", HTTP_ORIGIN=SHOP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"x-session-id", "retry-after", "x-request-id"}


@override_settings(CORS_ALLOWED_ORIGINS=[SHOP])
def test_an_unlisted_origin_and_the_pages_get_no_cors_headers():
    other = Client().get("/api/v1/products", HTTP_ORIGIN="https://evil.example.com")
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other
    preflight = Client().options(
        "/api/v1/cart/items", HTTP_ORIGIN="https://evil.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT"
    )
    assert "Access-Control-Allow-Origin" not in preflight
    page = Client().get("/products/", HTTP_ORIGIN=SHOP)
    assert page.status_code == 200 and "Access-Control-Allow-Origin" not in page


def test_with_no_origins_configured_nothing_is_shared():
    response = Client().get("/api/v1/products", HTTP_ORIGIN=SHOP)
    assert "Access-Control-Allow-Origin" not in response


def _socket_accepts(origin: bytes | None) -> bool:
    from commerce.asgi import application

    async def scenario() -> bool:
        headers = [(b"origin", origin)] if origin is not None else []
        socket = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
        connected, _ = await socket.connect(timeout=TIMEOUT)
        if connected:
            await socket.disconnect()
        return connected

    return run(scenario())


@pytest.mark.django_db(transaction=True)
@override_settings(CORS_ALLOWED_ORIGINS=[SHOP], ALLOWED_HOSTS=["store.example.com"])
def test_the_chat_socket_accepts_an_allowed_host_or_a_cors_origin_and_nothing_else():
    assert _socket_accepts(b"https://store.example.com")
    assert _socket_accepts(SHOP.encode())
    assert not _socket_accepts(b"http://shop.example.com")  # CORS origins match scheme and port exactly
    assert not _socket_accepts(b"https://shop.example.com:8443")
    assert not _socket_accepts(b"https://evil.example.com")
    assert not _socket_accepts(None)
