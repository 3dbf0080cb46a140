from types import SimpleNamespace

import pytest

from carts.services import cart_add_item
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import ShopperSessionFactory
from memory.models import Affinity
from memory.receivers import on_order_placed

pytestmark = pytest.mark.django_db


def test_a_cart_add_raises_affinity_via_the_task(user, store, django_capture_on_commit_callbacks):
    variant = store.hoodie.variants.get(size="M")
    with django_capture_on_commit_callbacks(execute=True):
        cart_add_item(shopper=Shopper(user=user, session=None), variant_id=variant.pk, quantity=1)
    scores = {(a.kind, a.label): a.score for a in Affinity.objects.filter(user=user)}
    assert scores == {
        ("product", "Alpha Hoodie"): 3.0,
        ("category", "Hoodies & Sweatshirts"): 3.0,
        ("brand", "Aerolite"): 3.0,
    }


def test_adding_more_of_the_same_line_is_not_a_new_cart_add(user, store, django_capture_on_commit_callbacks):
    variant = store.hoodie.variants.get(size="M")
    shopper = Shopper(user=user, session=None)
    with django_capture_on_commit_callbacks(execute=True):
        cart_add_item(shopper=shopper, variant_id=variant.pk, quantity=1)
        cart_add_item(shopper=shopper, variant_id=variant.pk, quantity=1)
    assert Affinity.objects.get(user=user, kind="product").score == 3.0


def test_a_guest_cart_add_is_not_remembered(store, django_capture_on_commit_callbacks):
    guest = Shopper(user=None, session=ShopperSessionFactory())
    with django_capture_on_commit_callbacks(execute=True):
        cart_add_item(shopper=guest, variant_id=store.shoe.variants.first().pk, quantity=1)
    assert not Affinity.objects.exists()


def test_an_order_placed_is_a_purchase_for_each_product_once(user, store, django_capture_on_commit_callbacks):
    # Stands in for orders.Order until the orders app sends order_placed (same attributes).
    lines = [SimpleNamespace(product_id=store.shoe.pk), SimpleNamespace(product_id=store.neon.pk)]
    order = SimpleNamespace(pk=7, user_id=user.pk, lines=SimpleNamespace(all=lambda: lines))
    with django_capture_on_commit_callbacks(execute=True):
        on_order_placed(sender=None, order=order)
        on_order_placed(sender=None, order=order)  # a repeated signal counts once
    scores = {(a.kind, a.label): a.score for a in Affinity.objects.filter(user=user)}
    assert scores[("brand", "Stride")] == 10.0  # two Stride products, 5 each
    assert scores[("product", "Road Runner")] == 5.0 and scores[("category", "T-Shirts")] == 5.0


def test_a_guest_order_is_not_remembered(store, django_capture_on_commit_callbacks):
    order = SimpleNamespace(pk=8, user_id=None, lines=SimpleNamespace(all=lambda: []))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        on_order_placed(sender=None, order=order)
    assert callbacks == [] and not Affinity.objects.exists()
