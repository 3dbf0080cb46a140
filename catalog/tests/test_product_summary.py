"""Each product's kept summary of its variants (price range, in stock, sizes, colour words) stays equal to
what its variants say after every path that writes variants: model saves (admin, shell), deletes, the
import, stock adjustment. Checkout and cancellation are in orders/tests/test_product_stock_flag.py."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from catalog.models import Product, Variant
from catalog.selectors import product_search
from catalog.services import catalog_import, variant_adjust_stock
from catalog.tests.factories import ProductFactory, VariantFactory
from catalog.tests.factories import import_record as record

pytestmark = pytest.mark.django_db


def expected_summary(product_id: int) -> dict:
    """The summary worked out from scratch from the variants, independently of the code under test."""
    variants = list(Variant.objects.filter(product_id=product_id))
    prices = [v.price for v in variants]
    return {
        "price_min": min(prices) if prices else None,
        "price_max": max(prices) if prices else None,
        "has_stock": any(v.stock > 0 for v in variants),
        "sizes": sorted({v.size.strip().lower() for v in variants if v.size.strip()}),
        "color_words": sorted({w for v in variants for w in v.color.lower().split()}),
    }


def stored_summary(product_id: int) -> dict:
    fields = ["price_min", "price_max", "has_stock", "sizes", "color_words"]
    return Product.objects.filter(pk=product_id).values(*fields).get()


def assert_summary_right(product_id: int) -> dict:
    stored = stored_summary(product_id)
    assert stored == expected_summary(product_id)
    return stored


def test_variants_saved_through_the_model_keep_the_summary():
    product = ProductFactory()
    VariantFactory(product=product, size="M", color="Navy Blue", price=Decimal("30.00"), stock=0)
    VariantFactory(product=product, size="L", color="black", price=Decimal("45.50"), stock=0)
    summary = assert_summary_right(product.pk)
    assert summary["price_min"] == Decimal("30.00") and summary["price_max"] == Decimal("45.50")
    assert summary["has_stock"] is False
    assert summary["sizes"] == ["l", "m"] and summary["color_words"] == ["black", "blue", "navy"]

    cheap = Variant.objects.get(product=product, size="M")
    cheap.price, cheap.stock, cheap.color = Decimal("19.99"), 3, "red"
    cheap.save()
    summary = assert_summary_right(product.pk)
    assert summary["price_min"] == Decimal("19.99") and summary["has_stock"] is True
    assert summary["color_words"] == ["black", "red"]


def test_deleting_variants_keeps_the_summary_down_to_none():
    product = ProductFactory()
    first = VariantFactory(product=product, price=Decimal("10.00"), stock=2)
    second = VariantFactory(product=product, price=Decimal("80.00"), stock=0, size="XL")
    first.delete()
    summary = assert_summary_right(product.pk)
    assert summary["price_min"] == Decimal("80.00") and summary["has_stock"] is False
    second.delete()
    summary = assert_summary_right(product.pk)
    assert summary["price_min"] is None and summary["sizes"] == []
    assert not product_search().filter(pk=product.pk).exists()  # nothing to buy: not listed


def test_the_import_writes_the_summary_and_an_update_rewrites_it():
    catalog_import(
        records=[
            record("Trail Runner", "Stride", "Shoes", ["TR-1", "TR-2"], price="120.00", stock=0, size="10"),
        ]
    )
    product = Product.objects.get(name="Trail Runner")
    summary = assert_summary_right(product.pk)
    assert summary["has_stock"] is False and summary["price_max"] == Decimal("120.00")

    # The re-import names one sku only; the other is kept, and the summary counts both.
    catalog_import(
        records=[
            record("Trail Runner", "Stride", "Shoes", ["TR-1"], price="99.00", stock=4, color="sky blue")
        ]
    )
    summary = assert_summary_right(product.pk)
    assert summary["price_min"] == Decimal("99.00") and summary["price_max"] == Decimal("120.00")
    assert summary["has_stock"] is True and summary["color_words"] == ["black", "blue", "sky"]


def test_stock_adjustment_flips_the_in_stock_flag_both_ways():
    product = ProductFactory()
    variants = [VariantFactory(product=product, stock=2), VariantFactory(product=product, stock=1)]
    variant_adjust_stock(variant_ids=[v.pk for v in variants], delta=-5)
    assert assert_summary_right(product.pk)["has_stock"] is False
    assert not Product.objects.in_stock().filter(pk=product.pk).exists()
    variant_adjust_stock(variant_ids=[variants[0].pk], delta=1)
    assert assert_summary_right(product.pk)["has_stock"] is True


def test_the_admin_paths_keep_the_summary(admin_client):
    product = ProductFactory(name="Campus Hoodie")
    kept = VariantFactory(product=product, sku="HOD-M", size="M", price=Decimal("60.00"), stock=1)

    # The product page's variant inline: change the price, add a variant.
    data = {
        "name": product.name,
        "slug": product.slug,
        "brand": product.brand,
        "category": product.category_id,
        "description": product.description,
        "tags": "[]",
        "image_url": "",
        "is_active": "on",
        "variants-TOTAL_FORMS": "2",
        "variants-INITIAL_FORMS": "1",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-id": str(kept.pk),
        "variants-0-product": str(product.pk),
        "variants-0-sku": "HOD-M",
        "variants-0-size": "M",
        "variants-0-color": "black",
        "variants-0-price": "55.00",
        "variants-0-stock": "1",
        "variants-1-product": str(product.pk),
        "variants-1-sku": "HOD-XL",
        "variants-1-size": "XL",
        "variants-1-color": "forest green",
        "variants-1-price": "70.00",
        "variants-1-stock": "0",
        "_save": "Save",
    }
    response = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    summary = assert_summary_right(product.pk)
    assert summary["price_min"] == Decimal("55.00") and summary["sizes"] == ["m", "xl"]
    assert summary["color_words"] == ["black", "forest", "green"]

    # The low-stock list's editable stock column takes the last unit away.
    variants = list(Variant.objects.order_by("stock", "sku"))
    edit = {"form-TOTAL_FORMS": str(len(variants)), "form-INITIAL_FORMS": str(len(variants)), "_save": "Save"}
    for i, v in enumerate(variants):
        edit[f"form-{i}-id"] = str(v.pk)
        edit[f"form-{i}-stock"] = "0"
    assert admin_client.post("/admin/catalog/variant/", edit).status_code == 302
    assert assert_summary_right(product.pk)["has_stock"] is False

    # The "adjust stock" action puts units back.
    admin_client.post(
        "/admin/catalog/variant/",
        {"action": "adjust_stock", ACTION_CHECKBOX_NAME: [kept.pk], "apply": "Apply", "delta": "4"},
    )
    assert assert_summary_right(product.pk)["has_stock"] is True


def test_search_filters_read_the_summary_and_still_hold_for_one_variant():
    product = ProductFactory(name="Split Jacket")
    VariantFactory(product=product, size="S", color="red", price=Decimal("20.00"), stock=0)
    VariantFactory(product=product, size="L", color="blue", price=Decimal("200.00"), stock=5)
    found = lambda **kw: list(product_search(**kw).values_list("pk", flat=True))  # noqa: E731
    assert found(min_price="150") == [product.pk]  # a lone bound: the price range answers it
    assert found(max_price="25") == [product.pk]
    assert found(min_price="50", max_price="150") == []  # no one variant between the two
    assert found(size="S", in_stock_only=True) == []  # the S is sold out
    assert found(size="l", color="blue", in_stock_only=True) == [product.pk]
    assert found(size="L", color="red") == []  # both exist, never on one variant
    assert list(product_search(sort="price_desc").values_list("price_min", flat=True)) == [Decimal("20.00")]


def test_a_repeated_search_reads_only_the_page_from_the_database(client, django_assert_num_queries):
    for i in range(3):
        VariantFactory(product=ProductFactory(name=f"Cloud Hoodie {i}"), price=Decimal("40.00"))
    first = client.get("/api/v1/products", {"query": "hoodie", "limit": 2}).json()
    # Cached: the search and the products' JSON; only the page's stock is read (no count, no ranking).
    with django_assert_num_queries(1):
        again = client.get("/api/v1/products", {"query": "hoodie", "limit": 2}).json()
    assert again == first and first["total"] == 3


def test_a_cached_search_follows_catalog_writes_and_sell_outs(client, user):
    from carts.services import cart_add_item
    from commerce.accounts.shoppers import Shopper
    from orders.services import order_place
    from orders.tests.conftest import ADDRESS, PAY_OK

    last = VariantFactory(product=ProductFactory(name="Last Hoodie"), price=Decimal("40.00"), stock=1)
    other = VariantFactory(product=ProductFactory(name="Other Hoodie"), price=Decimal("50.00"), stock=5)

    def names(**params):
        return [p["name"] for p in client.get("/api/v1/products", params).json()["items"]]

    assert names(query="hoodie", inStock="true") == ["Last Hoodie", "Other Hoodie"]
    other.price = Decimal("10.00")
    other.save()  # an admin edit
    assert names(query="hoodie", sort="price_asc") == ["Other Hoodie", "Last Hoodie"]
    cart_add_item(shopper=Shopper(user=user, session=None), variant_id=last.pk, quantity=1)
    order_place(user=user, shipping_address=ADDRESS, payment_method=PAY_OK)
    assert names(query="hoodie", inStock="true") == ["Other Hoodie"]


def test_a_search_answers_when_the_cache_is_unreachable(client, settings, caplog):
    VariantFactory(product=ProductFactory(name="Cloud Hoodie"), price=Decimal("40.00"))
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    response = client.get("/api/v1/products", {"query": "hoodie", "inStock": "true"})
    assert response.status_code == 200 and response.json()["total"] == 1
    assert any("catalog cache unreachable" in r.getMessage() for r in caplog.records)


@pytest.mark.redis
def test_a_repeated_api_search_reads_the_version_and_its_ids_in_one_round_trip(client, monkeypatch):
    import hashlib

    from django.core.cache import caches

    from commerce.cache import VERSIONED_GET_SCRIPT

    VariantFactory(product=ProductFactory(name="Cloud Hoodie"), price=Decimal("40.00"))
    VariantFactory(product=ProductFactory(name="Storm Hoodie"), price=Decimal("60.00"))
    first = client.get("/api/v1/products", {"query": "hoodie"})
    assert first.status_code == 200 and first.json()["total"] == 2
    redis_client = caches["default"]._cache.get_client(write=True)
    sent: list[str] = []
    real_execute = redis_client.execute_command

    versioned_get = hashlib.sha1(VERSIONED_GET_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis' own name

    def counting_execute(*args, **kwargs):
        sent.append("versioned_get" if args[:2] == ("EVALSHA", versioned_get) else args[0])
        return real_execute(*args, **kwargs)

    monkeypatch.setattr(redis_client, "execute_command", counting_execute)
    again = client.get("/api/v1/products", {"query": "hoodie"})
    assert again.json() == first.json()
    # the version with the search's cached ids, then the products' cached JSON (the other EVALSHA is
    # the API's rate limit): no GET of the version or the ids alone
    assert [c for c in sent if c != "EVALSHA"] == ["versioned_get", "MGET"]
