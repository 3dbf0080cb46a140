"""The product page keeps its shopper-independent parts cached; every catalog write shows at once."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product, Variant
from catalog.selectors import product_variant_stock
from catalog.services import variant_adjust_stock
from catalog.tests.factories import ProductFactory, VariantFactory
from catalog.views import _selected_variant_id, product_detail_parts_key

pytestmark = pytest.mark.django_db


def _page(client, product):
    response = client.get(f"/products/{product.pk}/")
    assert response.status_code == 200
    return response


def _product_queries(queries):
    return [q["sql"] for q in queries if 'FROM "catalog_product"' in q["sql"]]


def test_a_second_view_does_not_read_the_product_again(client):
    product = ProductFactory(name="Velocity Running Shoes")
    VariantFactory(product=product, size="10", stock=12)
    _page(client, product)

    with CaptureQueriesContext(connection) as again:
        html = _page(client, product).content.decode()

    assert "<h1>Velocity Running Shoes</h1>" in html
    assert not _product_queries(again.captured_queries)


def test_queries_do_not_grow_with_the_number_of_variants(client):
    small, large = ProductFactory(), ProductFactory()
    VariantFactory(product=small, size="M")
    for size in ("XS", "S", "M", "L", "XL", "XXL", "3XL", "4XL"):
        VariantFactory(product=large, size=size)

    counts = []
    for product in (small, large):
        with CaptureQueriesContext(connection) as cold:
            _page(client, product)
        with CaptureQueriesContext(connection) as warm:
            _page(client, product)
        counts.append((len(cold.captured_queries), len(warm.captured_queries)))

    assert counts[0] == counts[1]
    assert counts[0][1] < counts[0][0]


def test_a_price_change_shows_on_the_next_view(client):
    product = ProductFactory()
    variant = VariantFactory(product=product, price=Decimal("49.99"))
    assert "$49.99" in _page(client, product).content.decode()

    variant.price = Decimal("39.50")
    variant.save()  # what the admin's inline does

    html = _page(client, product).content.decode()
    assert "$39.50" in html and "$49.99" not in html


def test_an_edit_of_the_product_shows_on_the_next_view(client, admin_client):
    product = ProductFactory(name="Campus Hoodie")
    VariantFactory(product=product)
    _page(client, product)

    product.name = "Campus Hoodie II"
    product.description = "Now with pockets."
    product.save()

    html = _page(client, product).content.decode()
    assert "<h1>Campus Hoodie II</h1>" in html and "Now with pockets." in html


def test_stock_reaching_zero_shows_sold_out_on_the_next_view(client):
    product = ProductFactory()
    variant = VariantFactory(product=product, stock=2)
    assert "Add to cart</button>" in _page(client, product).content.decode()

    variant_adjust_stock(variant_ids=[variant.pk], delta=-2)

    html = _page(client, product).content.decode()
    assert re.search(r'<button type="submit" disabled>Sold out</button>', html)


def test_a_sale_that_leaves_units_shows_the_units_left(client):
    """Checkout takes stock with a conditional UPDATE and bumps no version unless a variant sells out."""
    product = ProductFactory()
    variant = VariantFactory(product=product, stock=20)
    assert "In stock" in _page(client, product).content.decode()

    Variant.objects.filter(pk=variant.pk).update(stock=3)

    assert "Only 3 left" in _page(client, product).content.decode()


def test_a_product_deactivated_after_being_cached_is_404(client):
    product = ProductFactory()
    VariantFactory(product=product)
    _page(client, product)

    Product.objects.filter(pk=product.pk).update(is_active=False)

    assert client.get(f"/products/{product.pk}/").status_code == 404


def test_the_cached_parts_hold_no_csrf_token_or_nonce_and_each_response_its_own(client, django_user_model):
    product = ProductFactory()
    VariantFactory(product=product)
    first = _page(client, product)

    stock = product_variant_stock(product_id=product.pk)
    key = product_detail_parts_key(
        product_id=product.pk, stock=stock, selected_id=_selected_variant_id(stock, "")
    )
    parts = cache.get(key)
    assert parts is not None
    cached = "".join(str(value) for value in parts.values())
    assert "csrfmiddlewaretoken" not in cached and "nonce" not in cached

    other = client.__class__()
    second = _page(other, product)
    tokens = [
        re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.content.decode()).group(1)
        for r in (first, second)
    ]
    assert tokens[0] != tokens[1]
    assert all(token not in cached for token in tokens)
    nonces = [re.findall(r'nonce="([^"]+)"', r.content.decode()) for r in (first, second)]
    assert nonces[0] and nonces[1] and set(nonces[0]).isdisjoint(nonces[1])  # each response its own
    assert all(n not in cached for n in nonces[0] + nonces[1])


def test_a_shopper_sees_their_own_cart_badge_on_a_cached_page(client):
    product = ProductFactory()
    variant = VariantFactory(product=product, stock=10)
    _page(client.__class__(), product)  # cached by another visitor

    client.post("/cart/add/", {"product_id": product.pk, "variant_id": variant.pk, "quantity": 2})

    html = _page(client, product).content.decode()
    assert 'aria-label="Cart, 2 items"' in html
