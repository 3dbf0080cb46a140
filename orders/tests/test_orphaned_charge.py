"""A charge approved for an order that then rolls back is given back, and never silently.

The payment provider is faked at its edge (a gateway registered like a real one): it approves the
charge but answers without a reference, so recording the payment fails inside the checkout
transaction after the money was taken.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.db import IntegrityError

from carts.models import CartLine
from orders.models import Order, Payment
from orders.payments import GATEWAYS, PaymentResult
from orders.services import order_place
from orders.tests.conftest import ADDRESS, PAY_OK

pytestmark = pytest.mark.django_db


class ProviderWithoutReference:
    """Approves every charge but gives no reference; its refunds answer as ``refund_outcome`` says."""

    name = "flaky"
    refund_outcome = "approve"
    refunds: list[tuple[str, Decimal]] = []

    def charge(self, *, amount: Decimal, token: str, reference: str) -> PaymentResult:
        return PaymentResult(True, None)  # type: ignore[arg-type]

    def refund(self, *, payment_reference: str, amount: Decimal) -> PaymentResult:
        ProviderWithoutReference.refunds.append((payment_reference, amount))
        if self.refund_outcome == "raise":
            raise ConnectionError("provider unreachable")
        return PaymentResult(self.refund_outcome == "approve", "re_1", "refused by the provider")


@pytest.fixture
def flaky_provider(settings, monkeypatch):
    monkeypatch.setitem(GATEWAYS, "flaky", ProviderWithoutReference)
    monkeypatch.setattr(ProviderWithoutReference, "refunds", [])
    monkeypatch.setattr(ProviderWithoutReference, "refund_outcome", "approve")
    settings.PAYMENT_GATEWAY = "flaky"
    return ProviderWithoutReference


def _place_and_fail(user) -> None:
    with pytest.raises(IntegrityError):  # the original error still reaches the caller
        order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK)


def test_the_charge_is_refunded_and_nothing_of_the_order_remains(user, filled_cart, flaky_provider, caplog):
    with caplog.at_level(logging.WARNING, logger="orders.services"):
        _place_and_fail(user)
    assert len(flaky_provider.refunds) == 1 and flaky_provider.refunds[0][1] > 0
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert CartLine.objects.filter(cart__user=user).count() == 2  # the cart is as it was
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "rolled back after charge" in caplog.records[0].getMessage()


@pytest.mark.parametrize("outcome", ["refuse", "raise"])
def test_a_refund_that_fails_too_is_logged_for_an_operator(
    user, filled_cart, flaky_provider, caplog, outcome
):
    flaky_provider.refund_outcome = outcome
    with caplog.at_level(logging.WARNING, logger="orders.services"):
        _place_and_fail(user)
    assert len(flaky_provider.refunds) == 1
    problem = caplog.records[-1]
    assert problem.levelname == "ERROR" and "refund it by hand" in problem.getMessage()
    assert not Order.objects.exists()
