"""An agent's checkout and a shopper's page checkout racing for the last unit: PostgreSQL row locks,
separate connections, one winner, no oversell."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from carts.services import cart_add_item
from catalog.tests.factories import VariantFactory
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import UserFactory
from orders.models import Order
from orders.tests.acp_helpers import FULFILLMENT, SECRET, AcpClient, payment
from orders.tests.conftest import ADDRESS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _acp_on(settings):
    settings.ACP_SIGNING_SECRET = SECRET
    settings.ACP_API_KEY = ""
    settings.ACP_WEBHOOK_URL = ""


def test_the_last_unit_goes_to_one_of_an_agent_and_a_page_checkout():
    last = VariantFactory(price=Decimal("80.00"), stock=1)
    agent = AcpClient()
    sid = agent.create(
        [{"id": str(last.pk)}], buyer={"email": "agent-buyer@example.com"}, fulfillment_details=FULFILLMENT
    ).json()["id"]
    shopper = UserFactory()
    cart_add_item(shopper=Shopper(user=shopper, session=None), variant_id=last.pk, quantity=1)
    page = Client()
    page.force_login(shopper)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def agent_pays() -> None:
        try:
            barrier.wait()
            results["agent"] = agent.post(f"/checkout_sessions/{sid}/complete", {"payment_data": payment()})
        finally:
            connection.close()

    def shopper_pays() -> None:
        try:
            barrier.wait()
            form = {**ADDRESS, "token": "pm_test_visa", "idempotency_key": "page-race-1"}
            results["page"] = page.post("/checkout/", form)
        finally:
            connection.close()

    threads = [threading.Thread(target=agent_pays), threading.Thread(target=shopper_pays)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    last.refresh_from_db()
    assert last.stock == 0
    assert Order.objects.count() == 1
    winner = Order.objects.get()
    agent_body = results["agent"].json()
    if winner.user == shopper:
        assert results["page"].status_code == 302
        assert (
            agent_body["status"] == "not_ready_for_payment"
            or agent_body["messages"][0]["code"] == "out_of_stock"
        )
        assert "order" not in agent_body
    else:
        assert agent_body["status"] == "completed"
        assert agent_body["order"]["id"] == winner.number
        assert results["page"].status_code == 200  # the form again, saying the stock ran out
        assert b"Not enough stock" in results["page"].content


def test_a_retry_while_the_first_request_is_still_charging_is_409_on_another_connection(monkeypatch):
    from orders.payments import TestGateway

    shoe = VariantFactory(price=Decimal("30.00"), stock=5)
    agent = AcpClient()
    sid = agent.create(
        [{"id": str(shoe.pk)}], buyer={"email": "slow@example.com"}, fulfillment_details=FULFILLMENT
    ).json()["id"]
    charging, retried = threading.Event(), threading.Event()
    charge = TestGateway.charge

    def slow_charge(self, **kwargs):
        charging.set()
        retried.wait(30)  # the payment network answers only after the platform's retry came back
        return charge(self, **kwargs)

    monkeypatch.setattr(TestGateway, "charge", slow_charge)
    results: dict[str, object] = {}

    def first() -> None:
        try:
            results["first"] = agent.post(
                f"/checkout_sessions/{sid}/complete", {"payment_data": payment()}, key="same-key"
            )
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert charging.wait(30)
    try:
        results["retry"] = AcpClient().post(
            f"/checkout_sessions/{sid}/complete", {"payment_data": payment()}, key="same-key"
        )
    finally:
        retried.set()
    thread.join(60)
    assert results["retry"].status_code == 409
    assert results["retry"].json()["code"] == "idempotency_in_flight"
    assert results["first"].json()["status"] == "completed"
    assert Order.objects.count() == 1
