"""Faults injected for real: Redis refusing, cut and silent; PostgreSQL cut and silent. The store keeps
selling (or fails fast), and nothing already saved is lost (docs/operations.md, Faults and recovery).

Redis refusing connections needs no Redis (a closed port), so that test runs in both CI passes; the
others put a :class:`~commerce.testing.faultproxy.FaultProxy` in front of the real Redis or PostgreSQL
and run in the second pass.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client import REGISTRY
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from carts.models import Cart, CartLine
from catalog.tests.factories import VariantFactory
from commerce.accounts.tests.factories import PASSWORD, UserFactory
from commerce.outbox.models import OutboxMessage
from commerce.outbox.services import outbox_sweep
from commerce.testing.faults import CLOSED_REDIS_URL, redis_at, redis_target
from conversations.models import Message
from memory.models import SignalReceipt
from orders.models import Order
from orders.tests.conftest import ADDRESS
from voice.models import RecoveryJob
from voice.tests.factories import abandoned_cart, job_for
from voice.tests.factories import shopper as voice_shopper

pytest_plugins = ["commerce.testing.asgi_server"]  # asgi_live_server

FAST_SECONDS = 3.0
ORDER_BODY = {"shippingAddress": ADDRESS, "paymentMethod": {"type": "card", "token": "pm_test_visa"}}


def _counts() -> dict[str, int]:
    """What must never shrink across a fault: rows shoppers and the worker already saved."""
    return {
        "orders": Order.objects.count(),
        "carts": Cart.objects.count(),
        "cartLines": CartLine.objects.count(),
        "messages": Message.objects.count(),
        "memorySignals": SignalReceipt.objects.count()
        + OutboxMessage.objects.filter(
            task_name__in=["memory.apply_signal", "orders.announce_order_placed"]
        ).count(),
        "voiceJobs": RecoveryJob.objects.count(),
    }


def _timed(call: Callable[[], Any]) -> Any:
    started = time.monotonic()
    response = call()
    elapsed = time.monotonic() - started
    assert elapsed < FAST_SECONDS, f"took {elapsed:.2f}s"
    return response


def _signed_in(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def _seed() -> tuple[Any, Any]:
    """A product to sell and a voice job already saved (the worker's work must survive too)."""
    variant = VariantFactory(price=Decimal("40.00"), stock=20)
    job_for(abandoned_cart(voice_shopper()))
    return variant, UserFactory()


def _shop(variant, user) -> dict[str, int]:
    """A shopper's visit: pages, sign-in, cart, checkout and the REST chat; every answer fast."""
    pages = Client(raise_request_exception=False)
    statuses = {
        "home": _timed(lambda: pages.get("/")).status_code,
        "product": _timed(lambda: pages.get(variant.product.get_absolute_url())).status_code,
    }
    login = _timed(
        lambda: APIClient(raise_request_exception=False).post(
            "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
        )
    )
    statuses["login"] = login.status_code
    api = _signed_in(user)
    statuses["cart"] = _timed(
        lambda: api.post(
            "/api/v1/cart/items",
            {"productId": str(variant.product_id), "variantId": str(variant.pk), "quantity": 1},
            format="json",
        )
    ).status_code
    statuses["order"] = _timed(
        lambda: api.post("/api/v1/orders", ORDER_BODY, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    ).status_code
    statuses["chat"] = _timed(
        lambda: api.post(
            "/api/v1/interactions/message", {"content": "what's in my cart?", "channel": "api"}, format="json"
        )
    ).status_code
    return statuses


SELLING = {"home": 200, "product": 200, "login": 200, "cart": 201, "order": 201, "chat": 200}


def _socket_close_code(server) -> int | None:
    """The close code a new chat socket gets on the real Daphne (``asgi_live_server``): Channels'
    communicator takes any code, Daphne's WebSocket library refuses some (it sends 1000 and 3000-4999)."""
    import websockets

    async def connect() -> int | None:
        url = server.url.replace("http://", "ws://") + "/ws/chat/"
        async with websockets.connect(url, origin=server.url) as socket:
            try:
                while True:
                    await asyncio.wait_for(socket.recv(), FAST_SECONDS)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None

    return asyncio.run(connect())


def _health() -> Any:
    return _timed(lambda: Client().get("/health"))


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels or None) or 0.0


@pytest.mark.django_db(transaction=True)
def test_with_redis_refusing_connections_the_store_keeps_selling_and_loses_nothing(asgi_live_server):
    variant, user = _seed()
    before = _counts()
    fail_open_before = _sample("commerce_rate_limit_fail_open_total")
    with redis_at(CLOSED_REDIS_URL):
        assert _shop(variant, user) == SELLING
        health = _health()
        assert health.status_code == 503
        assert {"cache", "channelLayer", "celery"} <= set(health.json()["failed"])
        assert _socket_close_code(asgi_live_server) == 4503
        pending = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        # The cart add handed memory a signal, and the order its announcement (memory's purchase
        # signal, voice's attribution): kept, not lost.
        assert pending.filter(task_name="memory.apply_signal").count() >= 1
        assert pending.filter(task_name="orders.announce_order_placed").count() == 1
        assert all(m.last_error for m in pending) or _sample("commerce_outbox_publish_failed_total")
    after = _counts()
    assert after["orders"] == before["orders"] + 1
    assert after["messages"] == before["messages"] + 2
    assert all(after[name] >= before[name] for name in before), (before, after)
    assert _sample("commerce_rate_limit_fail_open_total") > fail_open_before


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_readiness_fails_and_liveness_answers_without_touching_anything():
    """The containers' health checks use /health/live: a Redis outage must not get processes that
    keep selling restarted; /health (readiness, for nginx and operators) names what failed."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    errors_before = _sample("django_http_responses_total_by_status_total", status="503")
    with redis_at(CLOSED_REDIS_URL):
        assert _health().status_code == 503
        after_ready = _sample("django_http_responses_total_by_status_total", status="503")
        with CaptureQueriesContext(db) as queries:
            live = _timed(lambda: Client().get("/health/live"))
        assert live.status_code == 200
        assert live.json() == {"status": "ok"}
        assert live["Cache-Control"].startswith("max-age=0")
        assert len(queries) == 0
    # Only the readiness answer counted as a 503; the liveness answer is no error.
    assert after_ready == errors_before + 1
    assert _sample("django_http_responses_total_by_status_total", status="503") == after_ready


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_redis_cut_then_back_the_store_sells_throughout_and_recovers_by_itself(fault_proxy, asgi_live_server):
    host, port, path = redis_target()
    proxy = fault_proxy(port, host)
    url = proxy.url("redis", path)
    variant, user = _seed()
    with redis_at(url, retry_after=0.3):
        assert _health().status_code == 200
        before = _counts()
        proxy.cut()
        assert _shop(variant, user) == SELLING
        assert _health().json()["failed"]
        assert _socket_close_code(asgi_live_server) == 4503
        kept = set(OutboxMessage.objects.filter(status="pending").values_list("pk", flat=True))
        assert kept, "the memory signals of the cart add and the purchase wait in the outbox"

        proxy.restore()
        time.sleep(0.4)  # the breaker's REDIS_RETRY_AFTER_SECONDS
        health = _health()
        assert health.status_code == 200, health.json()
        from django.core.cache import cache

        cache.set("faults:back", "yes", 10)
        assert cache.get("faults:back") == "yes"
        # Beat's next sweeps, once their backoff is over (a minute on, here), send everything kept.
        assert outbox_sweep(now=timezone.now() + timedelta(minutes=1))["published"] == len(kept)
        assert not OutboxMessage.objects.filter(pk__in=kept).exclude(status="sent").exists()
        assert _shop(variant, user) == SELLING
    after = _counts()
    assert after["orders"] == before["orders"] + 2
    assert all(after[name] >= before[name] for name in before), (before, after)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_silent_redis_costs_a_timeout_not_a_hang(fault_proxy):
    """Packets dropped, connections open: only the socket timeouts end a wait, and the breaker keeps
    the store from waiting on every call."""
    host, port, path = redis_target()
    proxy = fault_proxy(port, host)
    variant, user = _seed()
    with redis_at(proxy.url("redis", path), retry_after=30):
        before = _counts()
        proxy.blackhole()
        assert _shop(variant, user) == SELLING
        assert _health().status_code == 503
    after = _counts()
    assert after["orders"] == before["orders"] + 1


@pytest.fixture
def database_through(fault_proxy):
    """The default database reached through a proxy for the rest of the test (then put back)."""
    settings_dict = connection.settings_dict
    original = (settings_dict["HOST"], settings_dict["PORT"])
    proxy = fault_proxy(int(original[1] or 5432), original[0] or "127.0.0.1")
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", str(proxy.port)
    yield proxy
    proxy.restore()
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = original


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(CONN_MAX_AGE=0)
@pytest.mark.parametrize("fault", ["cut", "blackhole"])
def test_with_postgresql_down_requests_fail_fast_with_the_error_page_or_json(database_through, fault):
    variant, user = _seed()
    before = _counts()
    proxy = database_through
    browser = Client(raise_request_exception=False)
    browser.force_login(user)  # the session and the user are read from the database on every page
    api = _signed_in(user)
    getattr(proxy, fault)()
    connection.close()
    page = _timed(lambda: browser.get("/cart/"))
    assert page.status_code == 503 and b"Back in a moment" in page.content
    # Readiness says so (after the connect timeout); liveness answers at once, so the process is kept.
    assert Client().get("/health").status_code == 503
    assert _timed(lambda: Client().get("/health/live")).json() == {"status": "ok"}
    assert page["Retry-After"]
    refused = _timed(lambda: api.get("/api/v1/orders"))
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "service_unavailable"
    proxy.restore()
    connection.close()
    assert browser.get("/cart/").status_code == 200
    assert api.get("/api/v1/orders").status_code == 200
    assert _counts() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_web_processes_cap_each_statement_and_others_do_not():
    from django.db import OperationalError

    from commerce.db import use_web_statement_timeout

    options = connection.settings_dict.setdefault("OPTIONS", {})
    saved = options.get("options")
    try:
        with override_settings(DB_STATEMENT_TIMEOUT_MS=200):
            # As a management command or a worker connects (another test may have loaded commerce.asgi).
            options["options"] = ""
            connection.close()
            with connection.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                assert cursor.fetchone()[0] == "0"
            assert use_web_statement_timeout()
            connection.close()
            with connection.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                assert cursor.fetchone()[0] == "200ms"
                with pytest.raises(OperationalError):
                    cursor.execute("SELECT pg_sleep(1)")
    finally:
        if saved is None:
            options.pop("options", None)
        else:
            options["options"] = saved
        connection.close()
