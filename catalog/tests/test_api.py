import pytest

from catalog.models import Product
from catalog.serializers import product_to_dict
from catalog.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

PRODUCT_KEYS = {
    "id",
    "name",
    "slug",
    "brand",
    "category",
    "description",
    "price",
    "currency",
    "imageUrl",
    "tags",
    "variants",
}
VARIANT_KEYS = {"id", "sku", "size", "color", "price", "stock", "inStock"}


def test_list_answers_the_contract_shape(api_client, small_catalog):
    body = api_client.get("/api/v1/products", {"query": "running shoes", "limit": 2}).json()

    assert set(body) == {"items", "total", "limit", "offset"}
    # Three shoes by name and the hoodie whose description mentions running shoes.
    assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (4, 2, 0, 2)
    item = body["items"][0]
    assert set(item) == PRODUCT_KEYS
    assert isinstance(item["id"], str) and item["currency"] == "USD"
    assert all(set(v) == VARIANT_KEYS and isinstance(v["id"], str) for v in item["variants"])


def test_product_detail_matches_the_contract(api_client, db):
    product = ProductFactory(name="Trail Runner 2", brand="Stride", tags=["running", "trail"])
    cheap = VariantFactory(
        product=product, sku="TR2-BLK-10", size="10", color="black", price="129.9", stock=12
    )
    VariantFactory(product=product, sku="TR2-BLK-11", size="11", color="black", price="139.99", stock=0)

    body = api_client.get(f"/api/v1/products/{product.pk}").json()

    assert body == {
        "id": str(product.pk),
        "name": "Trail Runner 2",
        "slug": product.slug,
        "brand": "Stride",
        "category": product.category.name,
        "description": "A product.",
        "price": "129.90",
        "currency": "USD",
        "imageUrl": f"/products/{product.pk}/image.svg",
        "tags": ["running", "trail"],
        "variants": [
            {
                "id": str(cheap.pk),
                "sku": "TR2-BLK-10",
                "size": "10",
                "color": "black",
                "price": "129.90",
                "stock": 12,
                "inStock": True,
            },
            {
                "id": body["variants"][1]["id"],
                "sku": "TR2-BLK-11",
                "size": "11",
                "color": "black",
                "price": "139.99",
                "stock": 0,
                "inStock": False,
            },
        ],
    }


def test_filters_sort_and_offset_apply(api_client, small_catalog):
    body = api_client.get(
        "/api/v1/products", {"category": "footwear", "sort": "price_asc", "minPrice": "100", "offset": 1}
    ).json()
    assert body["total"] == 3
    assert [i["name"] for i in body["items"]] == [
        "Ridgeline Trail Running Shoes",
        "Marathon Pro Running Shoes",
    ]
    assert [i["price"] for i in body["items"]] == ["149.99", "179.99"]

    in_stock = api_client.get("/api/v1/products", {"brand": "aerolite", "inStock": "true"}).json()
    assert in_stock["total"] == 0


def test_offset_past_the_end_gives_an_empty_page(api_client, small_catalog):
    body = api_client.get("/api/v1/products", {"offset": 50}).json()
    assert body["items"] == [] and body["total"] == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"minPrice": "abc"}, "minPrice"),
        ({"maxPrice": "-3"}, "maxPrice"),
        ({"sort": "cheapest"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"offset": "-1"}, "offset"),
    ],
)
def test_invalid_filters_are_400_json_errors(api_client, small_catalog, params, field):
    response = api_client.get("/api/v1/products", params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in {"invalid_filter", "invalid_input"}
    assert error["details"]["field"] == field and field in error["message"]


@pytest.mark.parametrize("product_id", ["999999", "not-a-number"])
def test_unknown_product_is_a_404_json_error(api_client, db, product_id):
    response = api_client.get(f"/api/v1/products/{product_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "product_not_found"


def test_list_query_count_does_not_grow_with_limit(api_client, db, django_assert_max_num_queries):
    for i in range(25):
        VariantFactory(product=ProductFactory(name=f"Cap {i}"))
    with django_assert_max_num_queries(4):
        assert len(api_client.get("/api/v1/products", {"limit": 2}).json()["items"]) == 2
    with django_assert_max_num_queries(4):
        assert len(api_client.get("/api/v1/products", {"limit": 25}).json()["items"]) == 25


def test_an_invalid_bearer_token_does_not_block_the_public_catalog(api_client, small_catalog):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api_client.get("/api/v1/products").status_code == 200


def test_product_to_dict_is_reusable_without_the_api(small_catalog):
    product = Product.objects.prefetch_related("variants").get(name="Campus Hoodie")
    assert product_to_dict(product)["price"] == "59.99"


def test_schema_documents_both_operations(api_client, db):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    listing = schema["paths"]["/api/v1/products"]["get"]
    params = {p["name"] for p in listing["parameters"]}
    assert {"query", "category", "brand", "size", "color", "minPrice", "maxPrice", "sort", "limit"} <= params
    assert "/api/v1/products/{product_id}" in schema["paths"]


def test_min_price_above_max_price_is_a_422_rule_violated(api_client, small_catalog):
    # Each price is well formed (the schema says so); together they break a rule no parameter states.
    response = api_client.get("/api/v1/products", {"minPrice": "90", "maxPrice": "10"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_filter" and error["details"]["field"] == "minPrice"
    assert api_client.get("/api/v1/products", {"minPrice": "10", "maxPrice": "10"}).status_code == 200


def _item(api_client, name: str) -> dict:
    items = api_client.get("/api/v1/products", {"query": name}).json()["items"]
    return next(i for i in items if i["name"] == name)


def test_a_cached_page_shows_a_sale_a_price_change_and_a_withdrawal_at_once(api_client, small_catalog):
    """A product's JSON is cached per catalog version; its variants' stock is read on every request."""
    hoodie = Product.objects.get(name="Campus Hoodie")
    variant = hoodie.variants.get()
    first = _item(api_client, "Campus Hoodie")
    assert first == product_to_dict(hoodie) | {"variants": first["variants"]}
    assert first["variants"][0]["stock"] == variant.stock

    # A sale that leaves stock is not a catalog write (no new version): the count is still fresh.
    type(variant).objects.filter(pk=variant.pk).update(stock=1)
    assert _item(api_client, "Campus Hoodie")["variants"][0] == first["variants"][0] | {"stock": 1}

    variant.price = "64.50"
    variant.save()  # a catalog write: a new version
    again = _item(api_client, "Campus Hoodie")
    assert again["price"] == "64.50" and again["variants"][0]["price"] == "64.50"

    hoodie.is_active = False
    hoodie.save()
    names = [i["name"] for i in api_client.get("/api/v1/products", {"query": "hoodie"}).json()["items"]]
    assert "Campus Hoodie" not in names


def test_a_search_page_reads_the_catalog_version_once(api_client, small_catalog, listing_version_reads):
    """The search, its products' JSON and the correction share one read of the listing version; the
    next request reads it again (so a catalog write in between is seen)."""
    reads = listing_version_reads
    for _ in range(2):
        reads.clear()
        assert api_client.get("/api/v1/products", {"query": "runing shoes"}).json()["items"]
        assert sum(reads) == 1
    hoodie = Product.objects.get(name="Campus Hoodie")
    hoodie.name = "Campus Running Hoodie"
    hoodie.save()
    names = [i["name"] for i in api_client.get("/api/v1/products", {"query": "runing"}).json()["items"]]
    assert "Campus Running Hoodie" in names


AWKWARD_NAMES = [
    'Quote " and backslash \\ inside',
    'Fake slot "stock":"\\u0000","inStock":"\\u0000" in the name',
    "Ünïcode — 雨 ☂ and a tab\tand a newline\n",
]


@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_the_spliced_product_json_equals_the_contract_dict_for_any_text(name):
    """The cached JSON is cut where each variant's stock goes; text that looks like a cut never moves it."""
    import json

    from catalog.serializers import product_dicts, product_json_by_id

    product = ProductFactory(name=name, description=name, tags=[name, "x"])
    VariantFactory(product=product, sku="AWK-1", size=name[:20], color="red", price="10.00", stock=3)
    VariantFactory(product=product, sku="AWK-2", size="M", color=name[:40], price="12.50", stock=0)
    expected = product_dicts(Product.objects.filter(pk=product.pk))
    for _ in range(2):  # built, then read back from the cache
        assert [json.loads(text) for text in product_json_by_id([product.pk])] == expected


def test_the_spliced_json_carries_each_variants_own_fresh_stock_and_drops_a_deleted_one():
    import json

    from django.db import connection

    from catalog.models import Variant
    from catalog.serializers import product_json_by_id

    product = ProductFactory(name="Splice Tee")
    kept = [VariantFactory(product=product, sku=f"SPL-{i}", size=str(i), stock=i) for i in range(1, 4)]
    assert [v["stock"] for v in json.loads(product_json_by_id([product.pk])[0])["variants"]] == [1, 2, 3]
    Variant.objects.filter(pk=kept[1].pk).update(stock=0)  # a sale: no catalog write, the cache stays
    Variant.objects.filter(pk=kept[2].pk).update(stock=40)
    variants = json.loads(product_json_by_id([product.pk])[0])["variants"]
    assert [(v["stock"], v["inStock"]) for v in variants] == [(1, True), (0, False), (40, True)]
    # A variant gone behind the cache's back (no version bump): it is left out, the rest still served.
    with connection.cursor() as cursor:  # raw SQL: no signal, so no version bump
        cursor.execute(f"DELETE FROM {Variant._meta.db_table} WHERE id = %s", [kept[0].pk])
    variants = json.loads(product_json_by_id([product.pk])[0])["variants"]
    assert [v["sku"] for v in variants] == ["SPL-2", "SPL-3"] and variants[0]["inStock"] is False
