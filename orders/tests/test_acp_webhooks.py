"""Order events to the agent platform: signed as the webhook spec says, retried with backoff by Celery,
sent to a real HTTP endpoint (a fake platform on a local port)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from catalog.tests.factories import VariantFactory
from commerce.accounts.tests.factories import UserFactory
from commerce.celery import app as celery_app
from orders.acp.models import AcpWebhookDelivery
from orders.acp.tasks import backoff_seconds
from orders.models import Order
from orders.services import order_mark_shipped
from orders.tests.acp_helpers import FULFILLMENT, SECRET, AcpClient, payment

pytestmark = pytest.mark.django_db

PORT = 8151


class FakePlatform:
    """Answers each POST with the next status in ``answers`` (then 200) and keeps what it got."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                platform.received.append(({k: v for k, v in self.headers.items()}, body))
                status = platform.answers.pop(0) if platform.answers else 200
                reply = json.dumps({"received": status == 200}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakePlatform:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]


def verify_merchant_signature(headers: dict[str, str], body: bytes) -> bool:
    """What the platform does with ``Merchant-Signature: t=<unix>,v1=<hex>``."""
    parts = dict(part.split("=", 1) for part in headers["Merchant-Signature"].split(","))
    expected = hmac.new(SECRET.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


@pytest.fixture(autouse=True)
def _acp_on(settings):
    settings.ACP_SIGNING_SECRET = SECRET
    settings.ACP_API_KEY = ""
    settings.ACP_WEBHOOK_URL = f"http://127.0.0.1:{PORT}/agentic_checkout/webhooks/order_events"
    settings.ACP_WEBHOOK_MAX_RETRIES = 3
    settings.ACP_WEBHOOK_TIMEOUT_SECONDS = 5


@pytest.fixture(autouse=True)
def _eager_retries():
    """The tasks run in the test's process (the Redis pass too), and an eager retry runs at once where a
    worker would schedule it; propagating errors would stop it at the first ``Retry``."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = True, False
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


def complete_an_order(django_capture_on_commit_callbacks) -> Order:
    acp = AcpClient()
    shoe = VariantFactory(price=Decimal("50.00"), stock=3)
    sid = acp.create(
        [{"id": str(shoe.pk)}], buyer={"email": "ada@example.com"}, fulfillment_details=FULFILLMENT
    ).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        done = acp.post(f"/checkout_sessions/{sid}/complete", {"payment_data": payment()})
    return Order.objects.get(number=done.json()["order"]["id"])


def test_a_completed_checkout_sends_a_signed_order_create(django_capture_on_commit_callbacks):
    with FakePlatform() as platform:
        order = complete_an_order(django_capture_on_commit_callbacks)
    assert len(platform.received) == 1
    headers, body = platform.received[0]
    assert verify_merchant_signature(headers, body)
    event = json.loads(body)
    assert event["type"] == "order_create"
    assert event["data"]["type"] == "order"
    assert event["data"]["id"] == order.number
    assert event["data"]["status"] == "confirmed"
    assert event["data"]["permalink_url"].endswith(f"/orders/{order.number}/")
    assert {"type": "total", "display_text": "Total", "amount": 5000 + 599 + 400} in event["data"]["totals"]
    delivery = AcpWebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (AcpWebhookDelivery.Status.DELIVERED, 1)


def test_a_failing_platform_is_retried_until_it_takes_the_event(django_capture_on_commit_callbacks):
    with FakePlatform(answers=[500, 503]) as platform:
        complete_an_order(django_capture_on_commit_callbacks)
    assert len(platform.received) == 3
    assert all(verify_merchant_signature(h, b) for h, b in platform.received)
    delivery = AcpWebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (AcpWebhookDelivery.Status.DELIVERED, 3)


def test_an_event_the_platform_never_takes_is_marked_failed_after_the_retries(
    django_capture_on_commit_callbacks,
):
    with FakePlatform(answers=[500] * 10) as platform:
        complete_an_order(django_capture_on_commit_callbacks)
    assert len(platform.received) == 4  # the first try and ACP_WEBHOOK_MAX_RETRIES=3 retries
    delivery = AcpWebhookDelivery.objects.get()
    assert delivery.status == AcpWebhookDelivery.Status.FAILED
    assert delivery.last_error.startswith("HTTP 500")


def test_shipping_an_agents_order_sends_order_update(django_capture_on_commit_callbacks, staff_user):
    with FakePlatform() as platform:
        order = complete_an_order(django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            order_mark_shipped(order=order, actor=staff_user, tracking_number="1Z999")
    assert [e["type"] for e in platform.events()] == ["order_create", "order_update"]
    assert platform.events()[1]["data"]["status"] == "shipped"


def test_no_webhook_url_sends_nothing(settings, django_capture_on_commit_callbacks):
    settings.ACP_WEBHOOK_URL = ""
    complete_an_order(django_capture_on_commit_callbacks)
    assert not AcpWebhookDelivery.objects.exists()


def test_backoff_doubles_and_is_capped(settings):
    assert [backoff_seconds(n) for n in range(4)] == [10, 20, 40, 80]
    assert backoff_seconds(20) == settings.CELERY_LONGEST_ETA_SECONDS
