"""Concurrent writes to one cart, on real PostgreSQL (row locks; SQLite serialises writers anyway)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from carts.models import Cart, CartLine
from carts.services import cart_add_item
from catalog.tests.factories import VariantFactory
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import ShopperSessionFactory
from commerce.errors import DomainError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_thread(fn):
    def run(*args):
        try:
            return fn(*args)
        finally:
            connection.close()  # each thread has its own connection; do not leak them

    return run


def test_concurrent_adds_of_one_variant_lose_no_quantity_and_make_one_line():
    variant = VariantFactory(stock=100)
    shopper = Shopper(user=None, session=ShopperSessionFactory())

    @_in_thread
    def add(_):
        cart_add_item(shopper=shopper, variant_id=variant.pk, quantity=1)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add, range(16)))
    assert Cart.objects.count() == 1
    assert CartLine.objects.get().quantity == 16


def test_concurrent_first_adds_of_different_variants_make_one_cart_with_every_line():
    variants = [VariantFactory(stock=10) for _ in range(6)]
    shopper = Shopper(user=None, session=ShopperSessionFactory())

    @_in_thread
    def add(variant):
        return cart_add_item(shopper=shopper, variant_id=variant.pk, quantity=1).pk

    with ThreadPoolExecutor(max_workers=6) as pool:
        carts = set(pool.map(add, variants))
    assert carts == {Cart.objects.get().pk}  # the requests that lost the creation race used its cart
    assert sorted(CartLine.objects.values_list("variant_id", flat=True)) == sorted(v.pk for v in variants)


def test_concurrent_adds_never_pass_stock():
    variant = VariantFactory(stock=5)
    shopper = Shopper(user=None, session=ShopperSessionFactory())

    @_in_thread
    def add(_):
        try:
            cart_add_item(shopper=shopper, variant_id=variant.pk, quantity=1)
            return True
        except DomainError as exc:  # the refusals are the point of this test; count them
            assert exc.code == "insufficient_stock", exc
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(add, range(12)))
    assert results.count(True) == 5
    assert CartLine.objects.get().quantity == 5
