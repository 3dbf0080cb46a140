import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from catalog.models import Variant
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(db):
    shoes = ProductFactory(name="Velocity Running Shoes", brand="Stride")
    hoodie = ProductFactory(name="Campus Hoodie", brand="Urban Thread")
    return {
        "low": VariantFactory(product=shoes, sku="VEL-10", stock=2),
        "ok": VariantFactory(product=shoes, sku="VEL-11", stock=40),
        "out": VariantFactory(product=hoodie, sku="HOD-M", stock=0),
    }


def test_product_changelist_searches_and_filters(admin_client, stock):
    page = admin_client.get("/admin/catalog/product/", {"q": "velocity"}).content.decode()
    assert "Velocity Running Shoes" in page and "Campus Hoodie" not in page

    sold_out = admin_client.get("/admin/catalog/product/", {"stock": "out"}).content.decode()
    assert "Campus Hoodie" in sold_out and "Velocity Running Shoes" not in sold_out

    by_brand = admin_client.get("/admin/catalog/product/", {"brand": "Stride"}).content.decode()
    assert "Velocity Running Shoes" in by_brand and "Campus Hoodie" not in by_brand

    by_sku = admin_client.get("/admin/catalog/product/", {"q": "HOD-M"}).content.decode()
    assert "Campus Hoodie" in by_sku


def test_product_change_page_has_variant_inlines(admin_client, stock):
    product_id = stock["low"].product_id
    page = admin_client.get(f"/admin/catalog/product/{product_id}/change/").content.decode()
    assert "VEL-10" in page and "VEL-11" in page and "variants-TOTAL_FORMS" in page


def test_low_stock_filter_lists_only_low_variants(admin_client, stock):
    page = admin_client.get("/admin/catalog/variant/", {"level": "low"}).content.decode()
    assert "VEL-10" in page and "VEL-11" not in page and "HOD-M" not in page


def test_stock_is_editable_in_the_variant_list(admin_client, stock):
    variants = list(Variant.objects.order_by("stock", "sku"))
    data = {
        "form-TOTAL_FORMS": str(len(variants)),
        "form-INITIAL_FORMS": str(len(variants)),
        "_save": "Save",
    }
    for i, v in enumerate(variants):
        data[f"form-{i}-id"] = str(v.pk)
        data[f"form-{i}-stock"] = "9" if v.pk == stock["out"].pk else str(v.stock)
    response = admin_client.post("/admin/catalog/variant/", data)
    assert response.status_code == 302
    stock["out"].refresh_from_db()
    assert stock["out"].stock == 9


def test_adjust_stock_action_asks_for_the_change_then_applies_it(admin_client, stock):
    selected = [stock["low"].pk, stock["out"].pk]
    first = admin_client.post(
        "/admin/catalog/variant/", {"action": "adjust_stock", ACTION_CHECKBOX_NAME: selected}
    )
    assert first.status_code == 200 and 'name="delta"' in first.content.decode()

    applied = admin_client.post(
        "/admin/catalog/variant/",
        {"action": "adjust_stock", ACTION_CHECKBOX_NAME: selected, "apply": "Apply", "delta": "-3"},
        follow=True,
    )

    assert "Changed stock by -3 on 2 variant(s)." in applied.content.decode()
    levels = dict(Variant.objects.values_list("sku", "stock"))
    assert levels == {"VEL-10": 0, "VEL-11": 40, "HOD-M": 0}


def test_adjust_stock_action_rejects_a_non_number(admin_client, stock):
    response = admin_client.post(
        "/admin/catalog/variant/",
        {"action": "adjust_stock", ACTION_CHECKBOX_NAME: [stock["ok"].pk], "apply": "Apply", "delta": "lots"},
    )
    assert response.status_code == 200 and "Enter a whole number" in response.content.decode()
    stock["ok"].refresh_from_db()
    assert stock["ok"].stock == 40


def test_category_changelist_shows_the_tree(admin_client, db):
    parent = CategoryFactory(name="Footwear", slug="footwear")
    CategoryFactory(name="Running Shoes", slug="running-shoes", parent=parent)
    page = admin_client.get("/admin/catalog/category/").content.decode()
    assert "Footwear › Running Shoes" in page
