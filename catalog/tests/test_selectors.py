from decimal import Decimal

import pytest

from catalog.errors import InvalidSearch, ProductNotFound
from catalog.models import Category, Product, Variant
from catalog.selectors import (
    catalog_corrector,
    catalog_facets,
    category_tree,
    product_featured,
    product_get,
    product_search,
    variant_stock_by_id,
)
from catalog.services import catalog_import
from catalog.tests.factories import ProductFactory, VariantFactory
from catalog.tests.factories import import_record as record

pytestmark = pytest.mark.django_db


def test_variant_stock_by_id_reads_every_variant_of_the_given_products_and_no_other(
    django_assert_num_queries,
):
    shoe, hoodie, other = ProductFactory(), ProductFactory(), ProductFactory()
    a = VariantFactory(product=shoe, stock=3)
    b = VariantFactory(product=shoe, stock=0)
    c = VariantFactory(product=hoodie, stock=12)
    VariantFactory(product=other, stock=7)
    with django_assert_num_queries(1):
        assert variant_stock_by_id([shoe.pk, hoodie.pk]) == {a.pk: 3, b.pk: 0, c.pk: 12}
    assert variant_stock_by_id([hoodie.pk, 10**12]) == {c.pk: 12}  # an id no product has: nothing
    with django_assert_num_queries(0):
        assert variant_stock_by_id([]) == {}


def names(qs):
    return [p.name for p in qs]


def test_exact_name_match_ranks_above_a_description_mention(small_catalog):
    results = names(product_search(query="running shoes"))

    # The hoodie only mentions running shoes in its description: it may match, but below every shoe.
    shoes = {"Velocity Running Shoes", "Ridgeline Trail Running Shoes", "Marathon Pro Running Shoes"}
    assert set(results[:3]) == shoes
    assert "Slim Fit Jeans" not in results


def test_whole_name_beats_partial_name(small_catalog):
    assert names(product_search(query="Campus Hoodie"))[0] == "Campus Hoodie"
    assert names(product_search(query="velocity running shoes"))[0] == "Velocity Running Shoes"


def test_query_matches_brand_category_and_tags(small_catalog):
    assert names(product_search(query="denimworks")) == ["Slim Fit Jeans"]
    assert names(product_search(query="hoodies")) == ["Campus Hoodie"]
    assert "Velocity Running Shoes" in names(product_search(query="road"))
    # A parent category counts too.
    assert set(names(product_search(query="footwear"))) == {
        "Velocity Running Shoes",
        "Ridgeline Trail Running Shoes",
        "Marathon Pro Running Shoes",
    }


def test_every_query_word_must_match(small_catalog):
    assert names(product_search(query="trail shoes")) == ["Ridgeline Trail Running Shoes"]
    assert names(product_search(query="velocity jeans")) == []


def test_filters_combine_with_and(small_catalog):
    footwear = product_search(category="footwear")
    assert len(footwear) == 3
    assert names(product_search(category="footwear", brand="stride")) == ["Velocity Running Shoes"]
    assert names(product_search(category="Running Shoes", max_price="150")) == ["Velocity Running Shoes"]
    assert names(product_search(query="shoes", color="green", size="10")) == ["Ridgeline Trail Running Shoes"]
    assert names(product_search(query="shoes", color="green", size="11")) == []
    assert names(product_search(min_price="60", max_price="80")) == ["Slim Fit Jeans"]


def test_size_colour_and_price_must_hold_for_the_same_variant(db):
    catalog_import(
        records=[
            {
                **record("Mixed Shoe", "Stride", "Shoes", []),
                "variants": [
                    {"sku": "M-BLK-9", "size": "9", "color": "black", "price": "50.00", "stock": 4},
                    {"sku": "M-RED-10", "size": "10", "color": "red", "price": "90.00", "stock": 4},
                ],
            }
        ]
    )
    assert names(product_search(size="10", color="red")) == ["Mixed Shoe"]
    assert names(product_search(size="10", color="black")) == []
    assert names(product_search(size="10", max_price="60")) == []


def test_a_colour_matches_whole_words_of_the_catalogs_colour(db):
    catalog_import(
        records=[
            {
                **record(name, "Stride", "Socks", []),
                "variants": [{"sku": sku, "size": "M", "color": color, "price": "9.99", "stock": 4}],
            }
            for name, sku, color in [
                ("Glow Socks", "G-1", "Neon Yellow"),
                ("Sea Socks", "S-1", "navy blue"),
                ("Rust Socks", "R-1", "reddish brown"),
                ("Plain Socks", "P-1", "red"),
            ]
        ]
    )
    assert names(product_search(color="neon")) == ["Glow Socks"]
    assert names(product_search(color="neon yellow")) == ["Glow Socks"]
    assert names(product_search(color=" YELLOW ")) == ["Glow Socks"]
    assert names(product_search(color="blue")) == ["Sea Socks"]
    assert names(product_search(color="red")) == ["Plain Socks"]  # never "reddish"
    assert names(product_search(color="eon")) == []


def test_product_named_finds_the_one_product_whose_name_holds_the_words(small_catalog):
    from catalog.selectors import product_named

    assert product_named(phrase="velocity").name == "Velocity Running Shoes"
    assert product_named(phrase="RIDGELINE trail").name == "Ridgeline Trail Running Shoes"
    assert product_named(phrase="running") is None  # several products
    assert product_named(phrase="veloc") is None  # whole words only
    assert product_named(phrase="") is None


def test_in_stock_only_hides_sold_out_products(small_catalog):
    assert "Marathon Pro Running Shoes" in names(product_search(query="shoes"))
    assert "Marathon Pro Running Shoes" not in names(product_search(query="shoes", in_stock_only=True))


@pytest.mark.parametrize(
    ("sort", "expected_first", "expected_last"),
    [
        ("price_asc", "Campus Hoodie", "Marathon Pro Running Shoes"),
        ("price_desc", "Marathon Pro Running Shoes", "Campus Hoodie"),
    ],
)
def test_price_sorts_use_the_lowest_variant_price(small_catalog, sort, expected_first, expected_last):
    results = names(product_search(sort=sort))
    assert (results[0], results[-1]) == (expected_first, expected_last)


def test_lowest_price_is_annotated_and_used(small_catalog):
    VariantFactory(product=Product.objects.get(name="Slim Fit Jeans"), price=Decimal("19.00"), sku="JNS-SALE")
    first = product_search(sort="price_asc")[0]
    assert (first.name, first.price_from) == ("Slim Fit Jeans", Decimal("19.00"))


def test_newest_sort_puts_the_latest_product_first(small_catalog):
    latest = ProductFactory(name="Brand New Cap")
    VariantFactory(product=latest)
    assert names(product_search(sort="newest"))[0] == "Brand New Cap"


def test_unknown_sort_and_bad_price_range_are_refused(small_catalog):
    with pytest.raises(InvalidSearch):
        product_search(sort="cheapest")
    with pytest.raises(InvalidSearch):
        product_search(min_price="100", max_price="10")
    with pytest.raises(InvalidSearch):
        product_search(min_price="ten")


def test_inactive_and_variantless_products_are_not_listed(small_catalog):
    Product.objects.filter(name="Campus Hoodie").update(is_active=False)
    ProductFactory(name="Ghost Product")
    listed = names(product_search())
    assert "Campus Hoodie" not in listed and "Ghost Product" not in listed


def test_product_get_returns_product_with_variants(small_catalog):
    product = Product.objects.get(name="Marathon Pro Running Shoes")
    got = product_get(product_id=str(product.pk))
    assert [v.sku for v in got.variants.all()] == ["MAR-RED-10", "MAR-RED-11"]


@pytest.mark.parametrize("bad_id", ["999999", "abc", "", "1; drop table", "-1", "9" * 40])
def test_product_get_raises_not_found_for_unknown_or_malformed_ids(small_catalog, bad_id):
    with pytest.raises(ProductNotFound):
        product_get(product_id=bad_id)


def test_category_tree_nests_children_and_counts_products(small_catalog):
    tree = {node.category.name: node for node in category_tree()}
    assert set(tree) == {"Footwear", "Tops", "Bottoms"}
    footwear = tree["Footwear"]
    assert [c.category.name for c in footwear.children] == ["Running Shoes", "Trail Shoes"]
    assert footwear.total_count == 3


def test_facets_list_brands_sizes_and_colours_in_a_useful_order(small_catalog):
    facets = catalog_facets()
    assert facets.brands == ["Aerolite", "Denimworks", "Northpeak", "Stride", "Urban Thread"]
    assert facets.sizes == ["10", "32", "M"]
    assert facets.colors == ["black", "green", "grey", "indigo", "red"]


def test_featured_products_prefer_the_featured_tag_and_skip_sold_out(small_catalog):
    Product.objects.filter(name="Slim Fit Jeans").update(tags=["featured"])
    Product.objects.filter(name="Marathon Pro Running Shoes").update(tags=["featured"])
    featured = names(product_featured(limit=3))
    assert featured[0] == "Slim Fit Jeans"
    assert "Marathon Pro Running Shoes" not in featured


def _many_products(n: int) -> None:
    category = Category.objects.create(name="Socks", slug="socks")
    for i in range(n):
        product = ProductFactory(name=f"Sock {i}", category=category)
        VariantFactory(product=product, size="S")
        VariantFactory(product=product, size="M")


@pytest.mark.parametrize("page_size", [1, 5, 20])
def test_listing_runs_a_constant_number_of_queries(db, django_assert_num_queries, page_size):
    _many_products(20)
    catalog_corrector()  # the catalog's vocabulary is built once per catalog version, not per request
    # count + one page of products + one query for all their variants, whatever the page size.
    with django_assert_num_queries(3):
        results = product_search(query="sock", sort="price_asc")
        total = results.count()
        page = list(results[:page_size])
        for product in page:
            [v.sku for v in product.variants.all()]
            assert product.category.name == "Socks"
            assert product.price_from == Decimal("49.99")
    assert total == 20 and len(page) == page_size


@pytest.mark.postgres
def test_full_text_search_stems_words_and_weights_fields(small_catalog):
    # "shoe" finds "Shoes" (stemming) and a name hit outranks a description hit.
    results = names(product_search(query="shoe"))
    assert results[-1] == "Campus Hoodie"
    assert set(results) >= {"Velocity Running Shoes", "Ridgeline Trail Running Shoes"}
    # websearch syntax: a quoted phrase and an excluded word.
    assert names(product_search(query='"running shoes" -trail -carbon')) == [
        "Velocity Running Shoes",
        "Campus Hoodie",
    ]


@pytest.mark.postgres
def test_typo_falls_back_to_trigram_similarity(small_catalog):
    results = names(product_search(query="runing shoes"))
    assert "Velocity Running Shoes" in results[:3]
    assert "Slim Fit Jeans" not in results
    assert names(product_search(query="hoodei")) == ["Campus Hoodie"]


@pytest.mark.postgres
def test_search_document_follows_every_write_path(small_catalog):
    hoodie = Product.objects.get(name="Campus Hoodie")
    # A variant colour added outside any service, a renamed category, a bulk update.
    VariantFactory(product=hoodie, color="mustard", sku="HOD-MUS-M")
    assert names(product_search(query="mustard")) == ["Campus Hoodie"]
    Category.objects.filter(name="Hoodies").update(name="Sweatshirts")
    assert names(product_search(query="sweatshirts")) == ["Campus Hoodie"]
    Product.objects.filter(pk=hoodie.pk).update(tags=["cosy"])
    assert names(product_search(query="cosy")) == ["Campus Hoodie"]
    Variant.objects.filter(sku="HOD-MUS-M").delete()
    assert names(product_search(query="mustard")) == []
