"""Stock and idempotency under real concurrency: PostgreSQL row locks, separate connections."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from carts.services import cart_add_item
from catalog.tests.factories import VariantFactory
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import UserFactory
from commerce.errors import DomainError
from orders.models import Order
from orders.services import order_place
from orders.tests.conftest import ADDRESS, PAY_OK

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(target, args_list):
    results, barrier = [], threading.Barrier(len(args_list))

    def worker(*args):
        try:
            barrier.wait()
            results.append(target(*args))
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=a) for a in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_twenty_concurrent_checkouts_never_oversell():
    variant = VariantFactory(price=Decimal("20.00"), stock=5)
    users = [UserFactory() for _ in range(20)]
    for u in users:
        cart_add_item(shopper=Shopper(user=u, session=None), variant_id=variant.pk, quantity=1)

    def checkout(u):
        return order_place(user=u, shipping_address=ADDRESS, payment_method=PAY_OK)[0].number

    results = run_threads(checkout, [(u,) for u in users])
    variant.refresh_from_db()
    assert Order.objects.count() == 5
    assert variant.stock == 0
    assert sorted(r for r in results if r == "insufficient_stock") == ["insufficient_stock"] * 15


def test_two_racing_requests_with_one_key_make_one_order():
    user = UserFactory()
    variant = VariantFactory(stock=10)
    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=variant.pk, quantity=1)

    def place(_):
        return order_place(
            user=user,
            shipping_address=ADDRESS,
            payment_method=PAY_OK,
            idempotency_key="race",
            request_hash="h",
        )[0].number

    results = run_threads(place, [(1,), (2,)])
    assert Order.objects.count() == 1
    assert results[0] == results[1] == Order.objects.get().number


def test_two_checkouts_selling_the_last_units_of_two_variants_leave_the_product_sold_out():
    """Each checkout sees the other's variant still in stock unless the in-stock flag's refresh waits for
    the other (catalog.services.product_stock_refresh locks the product): the flag must end False."""
    from catalog.models import Product
    from catalog.tests.factories import ProductFactory

    for _ in range(3):  # a race: a few rounds make a lucky interleaving unlikely to hide it
        product = ProductFactory()
        variants = [VariantFactory(product=product, stock=1), VariantFactory(product=product, stock=1)]
        users = [UserFactory(), UserFactory()]
        for u, v in zip(users, variants, strict=True):
            cart_add_item(shopper=Shopper(user=u, session=None), variant_id=v.pk, quantity=1)

        def checkout(u):
            return order_place(user=u, shipping_address=ADDRESS, payment_method=PAY_OK)[0].number

        results = run_threads(checkout, [(u,) for u in users])
        assert len(results) == 2 and "insufficient_stock" not in results
        assert Product.objects.values_list("has_stock", flat=True).get(pk=product.pk) is False


def test_carts_holding_the_same_variants_in_opposite_orders_never_deadlock_or_oversell():
    """Half the shoppers put A then B in their cart, half B then A; stock is taken in variant order, so
    twelve racing checkouts neither deadlock (PostgreSQL would abort one with deadlock_detected) nor
    sell more than the 3 units of each."""
    from django.db.models import Sum

    from orders.models import OrderLine

    a, b = VariantFactory(stock=3), VariantFactory(stock=3)
    users = [UserFactory() for _ in range(12)]
    for n, u in enumerate(users):
        for v in (a, b) if n % 2 else (b, a):
            cart_add_item(shopper=Shopper(user=u, session=None), variant_id=v.pk, quantity=1)

    def checkout(u):
        return order_place(user=u, shipping_address=ADDRESS, payment_method=PAY_OK)[0].number

    results = run_threads(checkout, [(u,) for u in users])
    placed = [r for r in results if r != "insufficient_stock"]
    assert len(results) == 12 and len(placed) == 3 and Order.objects.count() == 3
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.stock, b.stock) == (0, 0)
    sold = OrderLine.objects.values("variant_id").annotate(q=Sum("quantity"))
    assert {row["variant_id"]: row["q"] for row in sold} == {a.pk: 3, b.pk: 3}


def test_the_conditional_update_refuses_what_another_checkout_took_after_this_one_read_the_stock():
    """Both checkouts read 1 unit left (the early refusal lets them through), then race for it in the
    UPDATE ... WHERE stock >= quantity: one order, stock 0, the other refused with 409, never -1; the
    refused request's Idempotency-Key is not used up."""
    from orders.models import IdempotencyRecord

    for _ in range(3):
        variant = VariantFactory(stock=1)
        users = [UserFactory(), UserFactory()]
        for u in users:
            cart_add_item(shopper=Shopper(user=u, session=None), variant_id=variant.pk, quantity=1)

        def checkout(u):
            try:
                order_place(user=u, shipping_address=ADDRESS, payment_method=PAY_OK, idempotency_key="k")
            except DomainError as exc:
                return (u.pk, exc.code)
            return (u.pk, "placed")

        outcomes = dict(run_threads(checkout, [(u,) for u in users]))
        variant.refresh_from_db()
        assert variant.stock == 0
        assert sorted(outcomes.values()) == ["insufficient_stock", "placed"]
        refused = next(pk for pk, outcome in outcomes.items() if outcome == "insufficient_stock")
        assert not IdempotencyRecord.objects.filter(user_id=refused).exists()
        assert Order.objects.filter(user_id=refused).count() == 0
