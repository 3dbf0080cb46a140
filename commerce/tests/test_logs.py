"""Structured logs (docs/operations.md, Logs): a request id accepted or made and returned on every
response; JSON lines carrying the request, user and (digested) session ids, in the request, in the chat
socket and in the Celery tasks a request starts; readable lines in the embedded run."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client, override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from catalog.tests.factories import VariantFactory
from commerce.accounts.tests.factories import UserFactory
from commerce.logs import formatter_config, session_digest
from commerce.outbox.models import OutboxMessage

UUID_LENGTH = 36
# django-structlog's request and task lines, and the chat socket's.
CAPTURED_LOGGERS = ("django_structlog", "conversations.consumers")


class CapturedLog:
    """Log lines rendered by the production (JSON) formatter, from any thread, parsed back."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(
            logging.config.DictConfigurator({}).configure_formatter(formatter_config("json"))
        )

    def attach(self) -> None:
        # On the loggers these tests read, not the root: django.setup() (run again by a starting worker,
        # in its own thread) resets the root logger's handlers, never those of loggers it does not name.
        for name in CAPTURED_LOGGERS:
            logger = logging.getLogger(name)
            logger.setLevel(logging.INFO)
            if self.handler not in logger.handlers:
                logger.addHandler(self.handler)

    def detach(self) -> None:
        for name in CAPTURED_LOGGERS:
            logger = logging.getLogger(name)
            logger.removeHandler(self.handler)
            logger.setLevel(logging.NOTSET)

    def lines(self, event: str | None = None) -> list[dict]:
        parsed = [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]
        return [line for line in parsed if event is None or line.get("event") == event]


@pytest.fixture
def captured() -> Iterator[CapturedLog]:
    log = CapturedLog()
    log.attach()
    try:
        yield log
    finally:
        log.detach()


@pytest.mark.django_db
def test_every_response_carries_a_request_id_accepted_or_made():
    made = Client().get("/health")
    assert len(made["X-Request-ID"]) == UUID_LENGTH
    accepted = Client().get("/health", HTTP_X_REQUEST_ID="trace-42.a:b")
    assert accepted["X-Request-ID"] == "trace-42.a:b"
    # Not a sane token (spaces, a line break, too long): replaced, never written into a log line.
    for hostile in ("two words", "evil\\nINFO forged", "x" * 65):
        refused = Client().get("/health", HTTP_X_REQUEST_ID=hostile)
        assert refused["X-Request-ID"] != hostile and len(refused["X-Request-ID"]) == UUID_LENGTH
    assert Client().get("/no-such-page/")["X-Request-ID"]
    assert APIClient().get("/api/v1/no-such-endpoint")["X-Request-ID"]
    # Refused by a middleware before any view (a duplicated critical header): still carries it.
    early = Client().get("/api/v1/products", headers={"Idempotency-Key": "a"}, HTTP_IDEMPOTENCY_KEY="a,b")
    assert early["X-Request-ID"]


def test_the_embedded_run_logs_readable_lines_and_production_json():
    expected = "console" if (settings.EMBEDDED or settings.DEBUG) else "json"
    assert expected == settings.LOG_FORMAT
    assert settings.LOGGING["handlers"]["console"]["formatter"] == expected
    console = logging.config.DictConfigurator({}).configure_formatter(formatter_config("console"))
    line = console.format(logging.LogRecord("shop", logging.INFO, __file__, 1, "paid %s", ("ok",), None))
    assert "paid ok" in line and not line.startswith("{")


@pytest.mark.django_db
def test_an_api_request_logs_json_with_its_request_user_and_session_ids(captured):
    user = UserFactory()
    variant = VariantFactory(price=Decimal("10.00"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    session_key = client.post("/api/v1/sessions", {}, format="json").json()["sessionId"]
    response = client.post(
        "/api/v1/cart/items",
        {"productId": str(variant.product_id), "variantId": str(variant.pk), "quantity": 1},
        format="json",
        HTTP_X_REQUEST_ID="req-cart-1",
        HTTP_X_SESSION_ID=session_key,
    )
    assert response.status_code == 201 and response["X-Request-ID"] == "req-cart-1"
    finished = [line for line in captured.lines("request_finished") if line["request_id"] == "req-cart-1"]
    assert len(finished) == 1
    line = finished[0]
    assert line["user_id"] == user.pk
    assert line["session_id"] == session_digest(session_key)
    assert session_key not in captured.stream.getvalue(), "the shopper session id itself is never logged"
    assert line["code"] == 201 and line["level"] == "info" and line["timestamp"]


@pytest.mark.django_db(transaction=True)
def test_a_celery_task_started_by_a_request_logs_with_that_request_id(captured):
    from commerce.testing.worker import in_process_worker

    user = UserFactory()
    variant = VariantFactory(price=Decimal("10.00"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    request_id = f"req-{uuid.uuid4().hex[:8]}"
    with (
        override_settings(CELERY_TASK_ALWAYS_EAGER=False),
        in_process_worker(),
    ):
        added = client.post(
            "/api/v1/cart/items",
            {"productId": str(variant.product_id), "variantId": str(variant.pk), "quantity": 1},
            format="json",
            HTTP_X_REQUEST_ID=request_id,
        )
        assert added.status_code == 201
        signal = OutboxMessage.objects.get(task_name="memory.apply_signal")
        assert signal.log_context == {"request_id": request_id, "user_id": user.pk}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not captured.lines("task_succeeded"):
            time.sleep(0.2)
    succeeded = captured.lines("task_succeeded")
    assert succeeded and succeeded[0]["request_id"] == request_id
    assert succeeded[0]["user_id"] == user.pk and succeeded[0]["task_id"] == str(signal.task_id)


@pytest.mark.django_db(transaction=True)
def test_the_chat_socket_logs_with_its_request_id_and_session(captured):
    from commerce.asgi import application

    async def scenario() -> dict:
        socket = WebsocketCommunicator(
            application,
            "/ws/chat/",
            headers=[(b"origin", b"http://testserver"), (b"x-request-id", b"sock-7")],
        )
        connected, _ = await socket.connect()
        assert connected
        session = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return session

    session = async_to_sync(scenario)()
    opened = captured.lines("chat socket opened")
    assert opened and opened[0]["request_id"] == "sock-7" and opened[0]["transport"] == "websocket"
    assert opened[0]["session_id"] == session_digest(session["payload"]["sessionId"])
