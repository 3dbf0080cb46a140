"""The payment port and the one gateway this store has: a test gateway with token conventions.

``pm_test_*`` tokens are approved, ``pm_fail_*`` declined; anything else is not a token at all.
A real gateway implements :class:`PaymentGateway`, is added to :data:`GATEWAYS` and is selected by
the ``PAYMENT_GATEWAY`` setting (default ``"test"``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orders.errors import InvalidPaymentToken

TEST_APPROVE_PREFIX = "pm_test_"
TEST_DECLINE_PREFIX = "pm_fail_"


@dataclass(frozen=True)
class PaymentResult:
    approved: bool
    reference: str
    message: str = ""


class GatewayUnavailable(Exception):
    """A gateway that cannot reach its provider (or gets no usable answer) raises this or an ``OSError``;
    a refusal is a ``PaymentResult`` with ``approved=False``, never an exception."""


class PaymentGateway(Protocol):
    name: str

    def charge(self, *, amount: Decimal, token: str, reference: str) -> PaymentResult:
        """Charges ``amount``; ``reference`` is our order number (for the gateway's records)."""
        ...

    def refund(self, *, payment_reference: str, amount: Decimal) -> PaymentResult:
        """Returns ``amount`` of the charge ``payment_reference`` (the reference ``charge`` gave)."""
        ...


class TestGateway:
    name = "test"
    # What the checkout page offers instead of a free token field: (token, what a shopper reads).
    test_cards: tuple[tuple[str, str], ...] = (
        (f"{TEST_APPROVE_PREFIX}visa", "Test card — approved"),
        (f"{TEST_DECLINE_PREFIX}declined", "Test card — declined"),
    )

    def charge(self, *, amount: Decimal, token: str, reference: str) -> PaymentResult:
        if token.startswith(TEST_APPROVE_PREFIX):
            return PaymentResult(True, f"ch_{secrets.token_hex(8)}")
        if token.startswith(TEST_DECLINE_PREFIX):
            return PaymentResult(False, "", "The card was declined.")
        raise InvalidPaymentToken(
            "That payment token is not valid: use pm_test_... (approved) or pm_fail_... (declined).",
            details={"field": "paymentMethod.token"},
        )

    def refund(self, *, payment_reference: str, amount: Decimal) -> PaymentResult:
        if not payment_reference.startswith("ch_"):
            return PaymentResult(False, "", f"No charge {payment_reference!r} to refund.")
        return PaymentResult(True, f"re_{secrets.token_hex(8)}")


GATEWAYS: dict[str, type] = {"test": TestGateway}


def get_gateway() -> PaymentGateway:
    name = getattr(settings, "PAYMENT_GATEWAY", "test") or "test"
    try:
        return GATEWAYS[name]()
    except KeyError:
        raise ImproperlyConfigured(
            f"PAYMENT_GATEWAY={name!r} is not a known gateway; known: {', '.join(sorted(GATEWAYS))}."
        ) from None


def mask_token(token: str) -> str:
    """What may be shown and stored about a payment token: its kind and last four characters."""
    token = token.strip()
    return f"{token[:8]}…{token[-4:]}" if len(token) > 12 else "…" + token[-4:]
