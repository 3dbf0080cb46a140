import re

import pytest

from catalog.models import Category, Product
from catalog.services import catalog_import
from catalog.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_home_shows_search_box_categories_and_featured_products(client, small_catalog):
    Product.objects.filter(name="Campus Hoodie").update(tags=["featured"])

    page = client.get("/").content.decode()

    assert 'role="search"' in page and 'name="q"' in page
    assert "Footwear" in page and "Running Shoes" in page
    assert "Campus Hoodie" in page
    assert 'alt="Campus Hoodie by Urban Thread"' in page


def test_listing_shows_matching_products_for_a_query(client, small_catalog):
    page = client.get("/products/", {"q": "running shoes"}).content.decode()

    assert "Velocity Running Shoes" in page and "Marathon Pro Running Shoes" in page
    assert "Slim Fit Jeans" not in page
    assert 'id="filters"' in page  # the full page, with the filter form
    assert 'hx-push-url="true"' in page


def test_listing_filters_and_sort_combine(client, small_catalog):
    page = client.get(
        "/products/", {"category": "footwear", "max_price": "160", "sort": "price_desc"}
    ).content.decode()
    assert page.index("Ridgeline Trail Running Shoes") < page.index("Velocity Running Shoes")
    assert "Marathon Pro" not in page and "Campus Hoodie" not in page


def test_htmx_request_gets_only_the_results_fragment(client, small_catalog):
    response = client.get("/products/", {"q": "hoodie"}, headers={"HX-Request": "true"})
    html = response.content.decode()

    assert html.strip().startswith('<section id="results"')
    assert "Campus Hoodie" in html
    assert "<html" not in html and 'id="filters"' not in html
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client, small_catalog):
    html = client.get(
        "/products/", {"q": "hoodie"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    ).content.decode()
    assert "<html" in html


def test_no_match_shows_an_empty_state(client, small_catalog):
    html = client.get("/products/", {"q": "snorkel"}).content.decode()
    assert "Nothing matches" in html and "snorkel" in html


def test_invalid_filter_is_a_form_error_not_a_server_error(client, small_catalog):
    response = client.get("/products/", {"min_price": "200", "max_price": "100"})
    assert response.status_code == 200
    assert "must not be above the maximum price" in response.content.decode()
    response = client.get("/products/", {"min_price": "abc", "sort": "nope"})
    assert response.status_code == 200 and "filters are not valid" in response.content.decode()


def test_listing_paginates_and_keeps_filters_in_page_links(client, db):
    category = Category.objects.create(name="Socks", slug="socks")
    for i in range(30):
        VariantFactory(product=ProductFactory(name=f"Sock {i:02d}", category=category))

    first = client.get("/products/", {"category": "socks"}).content.decode()
    second = client.get("/products/", {"category": "socks", "page": "2"}).content.decode()

    assert "30 products" in first and "page 1 of 2" in first
    assert 'href="?category=socks&amp;page=2"' in first
    assert "Sock 00" in first and "Sock 00" not in second and "Sock 29" in second


def test_listing_page_query_count_does_not_grow_with_results(client, db, django_assert_max_num_queries):
    category = Category.objects.create(name="Socks", slug="socks")
    for i in range(3):
        VariantFactory(product=ProductFactory(name=f"Sock {i}", category=category))
    client.get("/products/")  # warm the session and shopper rows
    with django_assert_max_num_queries(30) as few:
        client.get("/products/", {"q": "sock"})
    baseline = len(few.captured_queries)

    for i in range(3, 30):
        VariantFactory(product=ProductFactory(name=f"Sock {i}", category=category))
    client.get("/products/")  # the catalog changed: rebuild the cached facets and category tree
    with django_assert_max_num_queries(baseline) as many:
        html = client.get("/products/", {"q": "sock"}).content.decode()
    assert html.count('class="card product-card"') == 24
    assert len(many.captured_queries) == baseline


def test_product_detail_offers_variants_with_stock_state_and_add_to_cart(client, db):
    product = ProductFactory(name="Velocity Running Shoes", tags=["running"])
    plenty = VariantFactory(product=product, size="10", color="black", stock=12)
    few = VariantFactory(product=product, size="10.5", color="black", stock=2)
    gone = VariantFactory(product=product, size="11", color="red", stock=0)

    html = client.get(f"/products/{product.pk}/").content.decode()

    assert "<h1>Velocity Running Shoes</h1>" in html
    assert "Only 2 left" in html and "Sold out" in html
    form = re.search(r'<form class="add-to-cart"[^>]*>', html).group(0)
    assert 'action="/cart/add/"' in form and 'hx-post="/cart/add/"' in form
    assert 'hx-target="#cart-feedback"' in form and 'id="cart-feedback"' in html
    assert 'name="quantity"' in html and '<label for="quantity">' in html
    radios = {
        int(v): attrs
        for attrs, v in re.findall(r'(<input type="radio" name="variant_id" value="(\d+)"[^>]*>)', html)
    }
    assert set(radios) == {plenty.pk, few.pk, gone.pk}
    assert "checked" in radios[plenty.pk] and "disabled" in radios[gone.pk]
    assert "disabled" not in radios[few.pk]


def test_product_detail_preselects_the_requested_variant(client, db):
    product = ProductFactory()
    VariantFactory(product=product, size="M")
    wanted = VariantFactory(product=product, size="L")
    html = client.get(f"/products/{product.pk}/", {"variant": wanted.pk}).content.decode()
    assert re.search(rf'value="{wanted.pk}"[^>]*checked', html)


def test_sold_out_product_disables_add_to_cart(client, db):
    product = ProductFactory()
    VariantFactory(product=product, stock=0)
    html = client.get(f"/products/{product.pk}/").content.decode()
    assert re.search(r"<button type=\"submit\" disabled>Sold out</button>", html)


@pytest.mark.parametrize("path", ["/products/999999/", "/products/abc/", "/products/999999/image.svg"])
def test_unknown_product_pages_are_404(client, db, path):
    assert client.get(path).status_code == 404


def test_inactive_product_page_is_404(client, db):
    variant = VariantFactory()
    Product.objects.filter(pk=variant.product_id).update(is_active=False)
    assert client.get(f"/products/{variant.product_id}/").status_code == 404


def test_placeholder_image_is_an_svg_with_the_escaped_name(client, db):
    variant = VariantFactory(product=ProductFactory(name="Tom & Jerry <Tee>"), color="navy")
    response = client.get(f"/products/{variant.product_id}/image.svg")
    assert response["Content-Type"] == "image/svg+xml"
    body = response.content.decode()
    assert body.startswith("<svg") and "Tom &amp; Jerry &lt;Tee&gt;" in body and "#1d3461" in body


def test_product_uses_its_own_image_url_when_it_has_one(db):
    product = ProductFactory(image_url="https://cdn.example/p.jpg")
    assert product.image_src == "https://cdn.example/p.jpg"
    assert ProductFactory().image_src.endswith("/image.svg")


@pytest.mark.django_db
def test_kiosk_page_opens_the_assistant_with_the_kiosk_channel(client):
    r = client.get("/kiosk/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'class="kiosk"' in html
    assert "?channel=kiosk" in html and '<details class="chat-dock" id="chat-dock" open>' in html


def test_listing_filters_are_cached_until_the_catalog_changes(client, db, django_assert_max_num_queries):
    category = Category.objects.create(name="Socks", slug="socks")
    VariantFactory(product=ProductFactory(name="Sock 1", brand="Stride", category=category), color="white")
    client.get("/products/")
    with django_assert_max_num_queries(50) as warm:
        client.get("/products/")
    cached = len(warm.captured_queries)  # read now: the next request resets the query log

    VariantFactory(product=ProductFactory(name="Sock 2", brand="Northpeak", category=category), color="teal")
    with django_assert_max_num_queries(50) as changed:
        page = client.get("/products/").content.decode()
    assert "Northpeak" in page and "teal" in page  # the new brand and colour are offered at once
    assert len(changed.captured_queries) > cached  # rebuilt once...
    with django_assert_max_num_queries(cached):
        client.get("/products/")  # ...then served from the cache again

    Product.objects.get(name="Sock 2").delete()
    assert "Northpeak" not in client.get("/products/").content.decode()


def test_an_import_that_only_changes_variants_shows_on_the_next_listing(client, small_catalog):
    # Variants are bulk-written (no model signals): the import itself invalidates the cached filters.
    jeans = next(r for r in small_catalog if r["name"] == "Slim Fit Jeans")
    assert '<option value="indigo"' in client.get("/products/").content.decode()

    result = catalog_import(
        records=[{**jeans, "variants": [{**jeans["variants"][0], "color": "plum", "size": "34"}]}]
    )
    assert (result.products_updated, result.variants_updated) == (0, 1)  # no product save, no signal

    page = client.get("/products/").content.decode()
    assert '<option value="plum"' in page and '<option value="34"' in page
    assert '<option value="indigo"' not in page and '<option value="32"' not in page


def test_a_category_change_shows_in_the_next_listings_tree(client, small_catalog):
    assert "Footwear" in client.get("/products/").content.decode()
    footwear = Category.objects.get(name="Footwear")
    footwear.name = "Shoes & Boots"
    footwear.save()

    page = client.get("/products/").content.decode()
    assert "Shoes &amp; Boots" in page and ">Footwear<" not in page
