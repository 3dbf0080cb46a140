"""The reason a shopper gave for leaving a cart: kept on the cart (one service), cleared at checkout."""

from __future__ import annotations

import pytest

from carts.models import AbandonmentReason
from carts.services import (
    abandonment_reason_from_acp,
    cart_add_item,
    cart_clear,
    cart_get_or_create_for_shopper,
    cart_record_abandonment_reason,
)
from catalog.tests.factories import VariantFactory
from commerce.accounts.shoppers import Shopper
from commerce.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def cart(user):
    shopper = Shopper(user=user, session=None)
    cart_add_item(shopper=shopper, variant_id=VariantFactory(stock=5).pk, quantity=1)
    return cart_get_or_create_for_shopper(shopper=shopper)


def test_the_latest_reason_is_kept_and_restarts_the_abandonment_clock(cart):
    before = cart.updated_at
    cart_record_abandonment_reason(cart=cart, reason=AbandonmentReason.UNDECIDED, source="chat")
    cart = cart_record_abandonment_reason(
        cart=cart, reason=AbandonmentReason.SHIPPING_COST, source="chat", note="shipping costs too much"
    )
    cart.refresh_from_db()
    assert cart.abandonment_reason == AbandonmentReason.SHIPPING_COST
    assert (cart.abandonment_source, cart.abandonment_note) == ("chat", "shipping costs too much")
    assert cart.abandonment_reason_at is not None
    assert cart.updated_at > before


def test_an_unknown_reason_is_refused(cart):
    with pytest.raises(InvalidInput):
        cart_record_abandonment_reason(cart=cart, reason="bored", source="chat")


def test_checkout_clears_the_reason(cart):
    cart_record_abandonment_reason(cart=cart, reason=AbandonmentReason.DECLINED, source="chat")
    cart_clear(cart=cart)
    cart.refresh_from_db()
    assert (cart.abandonment_reason, cart.abandonment_source, cart.abandonment_reason_at) == ("", "", None)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("price_sensitivity", AbandonmentReason.TOO_EXPENSIVE),
        ("shipping_cost", AbandonmentReason.SHIPPING_COST),
        ("timing_deferred", AbandonmentReason.UNDECIDED),
        ("comparison", AbandonmentReason.UNDECIDED),
        ("product_fit", AbandonmentReason.OTHER),
        ("something_new", AbandonmentReason.OTHER),
    ],
)
def test_acp_reason_codes_read_as_our_reasons(code, reason):
    assert abandonment_reason_from_acp(code) == reason


def test_changing_the_cart_afterwards_ends_the_reason(cart, user):
    cart_record_abandonment_reason(cart=cart, reason=AbandonmentReason.DECLINED, source="chat")
    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=VariantFactory(stock=2).pk, quantity=1)
    cart.refresh_from_db()
    assert cart.abandonment_reason == ""
