"""Checkouts are counted by outcome on /metrics when they really happen through the API."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from commerce.testing.metrics import sample, scrape
from orders.tests.conftest import ADDRESS, PAY_FAIL, PAY_OK

pytestmark = pytest.mark.django_db
CHECKOUTS = "commerce_checkouts_total"


def _checkouts(settings) -> dict:
    return scrape(Client(), settings)


def _place(client, payment, key=None):
    body = {"shippingAddress": ADDRESS, "paymentMethod": payment}
    return client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


def test_a_placed_order_a_replay_and_a_decline_each_count_under_their_outcome(
    auth_client, filled_cart, settings
):
    before = _checkouts(settings)
    declined = _place(auth_client, PAY_FAIL)
    placed = _place(auth_client, PAY_OK, key="same-key")
    replayed = _place(auth_client, PAY_OK, key="same-key")
    after = _checkouts(settings)

    assert declined.status_code == 422 and placed.status_code == 201 and replayed.status_code in (200, 201)
    code = declined.json()["error"]["code"]
    for outcome in ("placed", "replayed", code):
        assert sample(after, CHECKOUTS, outcome=outcome) == sample(before, CHECKOUTS, outcome=outcome) + 1, (
            outcome
        )
