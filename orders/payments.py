"""The payment port and the one gateway this store has: a test gateway with token conventions.

``pm_test_*`` tokens are approved, ``pm_fail_*`` declined; anything else is not a token at all.
A real gateway implements :class:`PaymentGateway` and is selected by the ``PAYMENT_GATEWAY`` setting.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings

from commerce.errors import InvalidInput


@dataclass(frozen=True)
class PaymentResult:
    approved: bool
    reference: str
    message: str = ""


class PaymentGateway(Protocol):
    name: str

    def charge(self, *, amount: Decimal, token: str, reference: str) -> PaymentResult: ...

    def refund(self, *, payment_reference: str, amount: Decimal) -> PaymentResult: ...


class TestGateway:
    name = "test"

    def charge(self, *, amount: Decimal, token: str, reference: str) -> PaymentResult:
        if token.startswith("pm_test_"):
            return PaymentResult(True, f"ch_{secrets.token_hex(8)}")
        if token.startswith("pm_fail_"):
            return PaymentResult(False, "", "The card was declined.")
        raise InvalidInput(
            "That payment token is not valid: use pm_test_... (approved) or pm_fail_... (declined).",
            code="invalid_payment_token",
            details={"field": "paymentMethod.token"},
        )

    def refund(self, *, payment_reference: str, amount: Decimal) -> PaymentResult:
        return PaymentResult(True, f"re_{secrets.token_hex(8)}")


GATEWAYS = {"test": TestGateway}


def get_gateway() -> PaymentGateway:
    return GATEWAYS[getattr(settings, "PAYMENT_GATEWAY", "test")]()
