"""Checkout and cancellation keep the product's in-stock flag (catalog's kept summary) right."""

from decimal import Decimal

import pytest

from carts.services import cart_add_item
from catalog.models import Product
from catalog.tests.factories import ProductFactory, VariantFactory
from commerce.accounts.shoppers import Shopper
from orders.services import order_cancel, order_place
from orders.tests.conftest import ADDRESS, PAY_OK

pytestmark = pytest.mark.django_db


def in_stock(product_id: int) -> bool:
    return Product.objects.values_list("has_stock", flat=True).get(pk=product_id)


def test_selling_the_last_units_marks_the_product_sold_out_and_cancelling_restocks_it(user):
    product = ProductFactory()
    last = VariantFactory(product=product, price=Decimal("25.00"), stock=2)
    VariantFactory(product=product, price=Decimal("25.00"), stock=0)
    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=last.pk, quantity=2)
    assert in_stock(product.pk) is True

    order, _ = order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK)
    assert in_stock(product.pk) is False
    assert not Product.objects.in_stock().filter(pk=product.pk).exists()

    order_cancel(order=order, actor=user, reason="changed my mind")
    assert in_stock(product.pk) is True


def test_a_sale_that_leaves_units_keeps_the_product_in_stock(user):
    variant = VariantFactory(price=Decimal("25.00"), stock=3)
    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=variant.pk, quantity=2)
    order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK)
    assert in_stock(variant.product_id) is True
