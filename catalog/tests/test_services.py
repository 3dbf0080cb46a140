from decimal import Decimal

import pytest

from catalog.errors import CatalogRecordInvalid
from catalog.models import Category, Product, Variant
from catalog.services import catalog_import, variant_adjust_stock
from catalog.tests.factories import VariantFactory
from catalog.tests.factories import import_record as record
from commerce.errors import InvalidInput

pytestmark = pytest.mark.django_db


def test_import_creates_products_variants_and_category_tree():
    result = catalog_import(
        records=[
            record("Velocity Running Shoes", "Stride", "Footwear > Running Shoes", ["V-1", "V-2"]),
            record("Trail Runner 2", "Stride", "Footwear > Trail Shoes", ["T-1"], price="129.99"),
        ]
    )

    assert (result.products_created, result.variants_created, result.categories_created) == (2, 3, 3)
    footwear = Category.objects.get(name="Footwear", parent=None)
    assert set(footwear.children.values_list("name", flat=True)) == {"Running Shoes", "Trail Shoes"}
    trail = Product.objects.get(name="Trail Runner 2")
    assert trail.category.parent == footwear
    assert trail.slug == "stride-trail-runner-2"
    assert Variant.objects.get(sku="T-1").price == Decimal("129.99")


def test_rerunning_an_import_is_idempotent():
    records = [record("Velocity Running Shoes", "Stride", "Running Shoes", ["V-1", "V-2"])]
    catalog_import(records=records)

    again = catalog_import(records=records)

    assert (again.products_created, again.products_updated, again.variants_created) == (0, 0, 0)
    assert again.unchanged_variants == 2
    assert Product.objects.count() == 1 and Variant.objects.count() == 2 and Category.objects.count() == 1


def test_reimport_updates_price_stock_and_details_by_sku():
    catalog_import(records=[record("Velocity", "Stride", "Running Shoes", ["V-1"], price="99.99")])
    product_id = Variant.objects.get(sku="V-1").product_id

    changed = record(
        "Velocity 2", "Stride", "Running Shoes", ["V-1"], price="89.50", stock=3, description="New"
    )
    result = catalog_import(records=[changed])

    variant = Variant.objects.get(sku="V-1")
    assert (variant.price, variant.stock) == (Decimal("89.50"), 3)
    # Matched by sku: the renamed product is the same row, not a new one.
    assert variant.product_id == product_id
    assert Product.objects.get().name == "Velocity 2"
    assert (result.products_updated, result.variants_updated) == (1, 1)


def test_reimport_keeps_variants_missing_from_the_file():
    catalog_import(records=[record("Velocity", "Stride", "Running Shoes", ["V-1", "V-2"])])

    catalog_import(records=[record("Velocity", "Stride", "Running Shoes", ["V-1"])])

    assert set(Variant.objects.values_list("sku", flat=True)) == {"V-1", "V-2"}


@pytest.mark.parametrize(
    ("bad_variant", "field"),
    [
        ({"sku": "B-1", "price": "abc", "stock": 1}, "variants[0].price"),
        ({"sku": "B-1", "price": 12.5, "stock": 1}, "variants[0].price"),
        ({"sku": "B-1", "price": "-1.00", "stock": 1}, "variants[0].price"),
        ({"sku": "B-1", "price": "1.999", "stock": 1}, "variants[0].price"),
        ({"sku": "B-1", "price": "10.00", "stock": -2}, "variants[0].stock"),
        ({"sku": "B-1", "price": "10.00", "stock": "7"}, "variants[0].stock"),
        ({"sku": "", "price": "10.00", "stock": 1}, "variants[0].sku"),
        ({"price": "10.00", "stock": 1}, "variants[0].sku"),
        ({"sku": "B-1", "stock": 1}, "variants[0].price"),
    ],
)
def test_bad_variant_names_record_and_field_and_writes_nothing(bad_variant, field):
    good = record("Good Shoe", "Stride", "Running Shoes", ["G-1"])
    bad = {**record("Bad Shoe", "Stride", "Running Shoes", []), "variants": [bad_variant]}

    with pytest.raises(CatalogRecordInvalid) as caught:
        catalog_import(records=[good, bad])

    assert caught.value.details["record"] == 2
    assert caught.value.details["field"] == field
    assert "record 2" in caught.value.message and field in caught.value.message
    assert not Product.objects.exists() and not Variant.objects.exists() and not Category.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"brand": 7}, "brand"),
        ({"category": "Footwear >  > Shoes"}, "category"),
        ({"tags": "running"}, "tags"),
        ({"variants": []}, "variants"),
        ({"slug": "Not A Slug"}, "slug"),
    ],
)
def test_bad_product_field_is_named(changes, field):
    bad = {**record("Shoe", "Stride", "Running Shoes", ["S-1"]), **changes}

    with pytest.raises(CatalogRecordInvalid) as caught:
        catalog_import(records=[bad])

    expected_sku = None if field == "variants" else "S-1"  # no variants: no sku to name
    assert caught.value.details == {"record": 1, "sku": expected_sku, "field": field}
    assert not Product.objects.exists()


def test_a_record_that_is_not_an_object_is_refused():
    with pytest.raises(CatalogRecordInvalid, match="record 1"):
        catalog_import(records=["not a product"])


def test_same_sku_in_two_records_is_refused_before_writing():
    with pytest.raises(CatalogRecordInvalid) as caught:
        catalog_import(
            records=[
                record("A", "Stride", "Socks", ["DUP-1"]),
                record("B", "Stride", "Socks", ["DUP-1"]),
            ]
        )
    assert caught.value.details["record"] == 2 and "record 1" in caught.value.message
    assert not Variant.objects.exists()


def test_failure_in_a_later_record_rolls_back_earlier_writes():
    # Both records are valid alone; the second claims skus of two different existing products.
    catalog_import(records=[record("A", "Stride", "Socks", ["A-1"]), record("B", "Stride", "Socks", ["B-1"])])

    with pytest.raises(CatalogRecordInvalid, match="different products"):
        catalog_import(
            records=[
                record("C", "Stride", "Socks", ["C-1"]),
                record("A+B", "Stride", "Socks", ["A-1", "B-1"]),
            ]
        )

    assert not Product.objects.filter(name="C").exists()


def test_progress_is_reported_per_record():
    seen = []
    catalog_import(
        records=[record("A", "Stride", "Socks", ["A-1"]), record("B", "Stride", "Socks", ["B-1"])],
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 2), (2, 2)]


def test_category_names_match_case_insensitively_and_slugs_stay_unique():
    catalog_import(
        records=[
            record("A", "Stride", "Men > Shoes", ["A-1"]),
            record("B", "Stride", "Women > Shoes", ["B-1"]),
            record("C", "Stride", "men > shoes", ["C-1"]),
        ]
    )
    shoes = Category.objects.filter(name="Shoes")
    assert shoes.count() == 2
    assert len(set(shoes.values_list("slug", flat=True))) == 2
    assert Product.objects.get(name="C").category == Product.objects.get(name="A").category


def test_adjust_stock_adds_and_never_goes_below_zero():
    low, high = VariantFactory(stock=2), VariantFactory(stock=10)

    assert variant_adjust_stock(variant_ids=[low.pk, high.pk], delta=-5) == 2
    low.refresh_from_db()
    high.refresh_from_db()
    assert (low.stock, high.stock) == (0, 5)

    variant_adjust_stock(variant_ids=[low.pk], delta=7)
    low.refresh_from_db()
    assert low.stock == 7


def test_adjust_stock_refuses_a_non_integer_change():
    variant = VariantFactory(stock=2)
    with pytest.raises(InvalidInput):
        variant_adjust_stock(variant_ids=[variant.pk], delta="3")


def test_records_in_later_batches_find_products_written_by_earlier_ones(monkeypatch):
    """The import writes in batches; a record matches what the records before it wrote, whichever batch."""
    import catalog.services

    monkeypatch.setattr(catalog.services, "IMPORT_BATCH", 2)
    seen = []
    result = catalog_import(
        records=[
            record("Velocity", "Stride", "Running Shoes", ["V-1"], price="99.00", stock=0),
            record("Other", "Stride", "Socks", ["O-1"]),
            # Same name and brand as the first: the same product, in the next batch, with a new variant.
            record("velocity", "STRIDE", "Running Shoes", ["V-2"], price="79.00", stock=2, size="11"),
        ],
        progress=lambda done, total: seen.append(done),
    )
    assert seen == [1, 2, 3]
    assert (result.products_created, result.variants_created) == (2, 3)
    velocity = Product.objects.get(variants__sku="V-1")
    assert set(velocity.variants.values_list("sku", flat=True)) == {"V-1", "V-2"}
    assert (velocity.price_min, velocity.price_max, velocity.has_stock) == (
        Decimal("79.00"),
        Decimal("99.00"),
        True,
    )
    assert velocity.sizes == ["10", "11"]


def test_a_new_slug_in_the_file_renames_the_product_and_stays_unique():
    catalog_import(
        records=[
            record("A", "Stride", "Socks", ["A-1"]),
            {**record("B", "Stride", "Socks", ["B-1"]), "slug": "taken"},
        ]
    )
    catalog_import(records=[{**record("A", "Stride", "Socks", ["A-1"]), "slug": "taken"}])
    assert Product.objects.get(name="A").slug == "taken-2"
    assert Product.objects.get(name="B").slug == "taken"
