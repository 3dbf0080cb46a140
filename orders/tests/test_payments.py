from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from orders.errors import InvalidPaymentToken
from orders.payments import TestGateway, get_gateway, mask_token


def test_test_tokens_approve_and_decline():
    gateway = TestGateway()
    approved = gateway.charge(amount=Decimal("10.00"), token="pm_test_visa", reference="ABC234")
    declined = gateway.charge(amount=Decimal("10.00"), token="pm_fail_visa", reference="ABC234")
    assert approved.approved and approved.reference.startswith("ch_")
    assert not declined.approved and "declined" in declined.message


def test_anything_else_is_an_invalid_token():
    with pytest.raises(InvalidPaymentToken) as err:
        TestGateway().charge(amount=Decimal("1.00"), token="4242 4242 4242 4242", reference="X")
    assert err.value.code == "invalid_payment_token" and err.value.status_code == 422


def test_refund_of_an_unknown_charge_is_refused():
    assert not TestGateway().refund(payment_reference="nope", amount=Decimal("1.00")).approved
    assert TestGateway().refund(payment_reference="ch_1", amount=Decimal("1.00")).approved


def test_gateway_is_chosen_by_setting(settings):
    settings.PAYMENT_GATEWAY = "test"
    assert isinstance(get_gateway(), TestGateway)
    settings.PAYMENT_GATEWAY = "stripe"
    with pytest.raises(ImproperlyConfigured, match="stripe"):
        get_gateway()


def test_masked_token_keeps_kind_and_last_four():
    assert mask_token("pm_test_4242424242") == "pm_test_…4242"
    assert mask_token("pm_test_visa") == "…visa"
