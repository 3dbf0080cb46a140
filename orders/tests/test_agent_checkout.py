"""Checkout by an outside agent: prepare (total, details on file, a confirmation id), then place once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from carts.services import cart_add_item, cart_set_variant_quantity
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import UserFactory
from orders.errors import (
    CartChanged,
    CartEmpty,
    ConfirmationExpired,
    ConfirmationNotFound,
    ConfirmationUsed,
    IdempotencyKeyReused,
    NoDetailsOnFile,
)
from orders.models import Order
from orders.services import (
    checkout_confirmation_decline,
    checkout_confirmation_issue,
    order_place,
    order_place_confirmed,
)
from orders.tests.conftest import ADDRESS, PAY_OK

pytestmark = pytest.mark.django_db


@pytest.fixture
def returning(user, filled_cart, variant):
    """A user who ordered once (details on file) and has ``variant`` in the cart again."""
    order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK)
    cart_add_item(shopper=filled_cart, variant_id=variant.pk, quantity=1)
    return user


def test_prepare_shows_the_total_and_details_on_file_and_takes_nothing(returning, variant):
    stock = variant.stock
    variant.refresh_from_db()
    confirmation, totals = checkout_confirmation_issue(user=returning)
    assert confirmation.total == totals.total and totals.item_count == 1
    assert confirmation.shipping_address["city"] == "Austin"
    assert confirmation.payment_method["token"] == PAY_OK["token"]
    assert confirmation.expires_at > timezone.now()
    variant.refresh_from_db()
    assert variant.stock == stock - 2  # only the earlier order's two; the prepare took nothing


def test_place_confirmed_places_once_and_a_replay_answers_the_same_order(returning):
    confirmation, _ = checkout_confirmation_issue(user=returning)
    order, created = order_place_confirmed(
        user=returning, confirmation_id=confirmation.public_id, request_id="r-1"
    )
    replay, replay_created = order_place_confirmed(
        user=returning, confirmation_id=confirmation.public_id, request_id="r-1"
    )
    assert created and not replay_created and replay == order
    assert order.total == confirmation.total
    with pytest.raises(ConfirmationUsed):
        order_place_confirmed(user=returning, confirmation_id=confirmation.public_id, request_id="r-2")
    assert Order.objects.filter(user=returning).count() == 2


def test_a_changed_cart_needs_a_new_prepare(returning, variant):
    confirmation, _ = checkout_confirmation_issue(user=returning)
    cart_set_variant_quantity(
        shopper=Shopper(user=returning, session=None), variant_id=variant.pk, quantity=3
    )
    with pytest.raises(CartChanged):
        order_place_confirmed(user=returning, confirmation_id=confirmation.public_id, request_id="r-1")
    assert Order.objects.filter(user=returning).count() == 1


def test_an_expired_confirmation_is_refused(returning):
    confirmation, _ = checkout_confirmation_issue(user=returning)
    with time_machine.travel(timezone.now() + timedelta(hours=1)), pytest.raises(ConfirmationExpired):
        order_place_confirmed(user=returning, confirmation_id=confirmation.public_id, request_id="r-1")


def test_a_declined_confirmation_is_refused(returning):
    confirmation, _ = checkout_confirmation_issue(user=returning)
    checkout_confirmation_decline(user=returning, confirmation_id=confirmation.public_id)
    with pytest.raises(ConfirmationUsed):
        order_place_confirmed(user=returning, confirmation_id=confirmation.public_id, request_id="r-1")


def test_another_users_confirmation_is_not_found(returning):
    confirmation, _ = checkout_confirmation_issue(user=returning)
    with pytest.raises(ConfirmationNotFound):
        order_place_confirmed(user=UserFactory(), confirmation_id=confirmation.public_id, request_id="r-1")


def test_a_request_id_cannot_place_a_second_confirmation(returning, variant):
    first, _ = checkout_confirmation_issue(user=returning)
    order_place_confirmed(user=returning, confirmation_id=first.public_id, request_id="same")
    cart_add_item(shopper=Shopper(user=returning, session=None), variant_id=variant.pk, quantity=1)
    second, _ = checkout_confirmation_issue(user=returning)
    with pytest.raises(IdempotencyKeyReused):
        order_place_confirmed(user=returning, confirmation_id=second.public_id, request_id="same")


def test_prepare_refuses_an_empty_cart_and_a_shopper_without_details_on_file(user, filled_cart):
    with pytest.raises(NoDetailsOnFile):
        checkout_confirmation_issue(user=user)
    with pytest.raises(CartEmpty):
        checkout_confirmation_issue(user=UserFactory())
