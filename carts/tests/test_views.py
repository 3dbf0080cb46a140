from decimal import Decimal

import pytest

from carts.models import Cart, CartLine
from carts.tests.factories import CartLineFactory, DiscountFactory
from catalog.tests.factories import VariantFactory
from commerce.accounts.tests.factories import PASSWORD, ShopperSessionFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _page_cart(client) -> Cart:
    """The cart of the browser session behind ``client`` (created by a first add)."""
    key = client.session["shopper_session_key"]
    return Cart.objects.get(session__key=key)


@pytest.fixture
def variant(db):
    return VariantFactory(
        price=Decimal("25.00"), stock=5, product__name="Trail Runner", size="10", color="black"
    )


def test_empty_cart_page(client):
    r = client.get("/cart/")
    assert r.status_code == 200
    assert b"Your cart is empty" in r.content
    assert b'id="cart-badge"' in r.content  # the full page has the header
    # the badge's refresh hangs on a wrapper that stays; no template comment leaks into the page
    assert b'<span id="cart-badge-slot" hx-get="/cart/badge/"' in r.content
    assert b"{#" not in r.content and b"{% comment" not in r.content and b"never swapped" not in r.content


def test_add_without_htmx_redirects_to_the_cart_with_a_message(client, variant):
    r = client.post("/cart/add/", {"variant_id": variant.pk, "quantity": "2"}, follow=True)
    assert r.redirect_chain[-1][0] == "/cart/"
    assert b"Added 2 to your cart" in r.content
    assert b"Trail Runner" in r.content and b"50.00" in r.content
    assert _page_cart(client).lines.get().quantity == 2


def test_add_with_htmx_answers_feedback_and_the_badge_out_of_band(client, variant):
    r = client.post("/cart/add/", {"variant_id": variant.pk, "quantity": "3"}, **HTMX)
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="cart-feedback"' in html and "Added 3" in html
    assert 'id="cart-badge"' in html and 'hx-swap-oob="true"' in html
    assert '<span class="badge" aria-hidden="true">3</span>' in html
    assert "<html" not in html


def test_add_refusals_are_shown_not_raised(client, variant):
    r = client.post("/cart/add/", {"variant_id": variant.pk, "quantity": "9"}, **HTMX)
    assert r.status_code == 200 and b"Only 5 of Trail Runner (size 10, black) left" in r.content
    sold_out = VariantFactory(stock=0)
    r = client.post("/cart/add/", {"variant_id": sold_out.pk}, **HTMX)
    assert b"sold out" in r.content
    for bad in ({"variant_id": variant.pk, "quantity": "lots"}, {"quantity": "1"}, {"variant_id": "x"}):
        r = client.post("/cart/add/", bad, **HTMX)
        assert r.status_code == 200 and b"form-errors" in r.content
    r = client.post("/cart/add/", {"variant_id": variant.pk, "quantity": "60"}, follow=True)
    assert r.status_code == 200 and b"from 1 to 50" in r.content
    assert not CartLine.objects.exists()


def test_cart_page_lists_lines_and_totals(client, variant):
    client.post("/cart/add/", {"variant_id": variant.pk, "quantity": "2"})
    r = client.get("/cart/")
    html = r.content.decode()
    for text in (
        "Trail Runner",
        "50.00",
        "Subtotal",
        "Tax",
        "4.00",
        "Shipping",
        "5.99",
        "59.99",
        'href="/checkout/"',
    ):
        assert text in html
    assert "css/carts.css" in html


def test_cart_page_htmx_request_gets_only_the_partial(client, variant):
    client.post("/cart/add/", {"variant_id": variant.pk})
    r = client.get("/cart/", **HTMX)
    html = r.content.decode()
    assert html.lstrip().startswith('<section id="cart"')
    assert "<html" not in html and "Trail Runner" in html


def test_htmx_quantity_update_swaps_the_cart_and_badge(client, variant):
    client.post("/cart/add/", {"variant_id": variant.pk})
    line = _page_cart(client).lines.get()
    r = client.post(f"/cart/lines/{line.pk}/", {"quantity": "4"}, **HTMX)
    html = r.content.decode()
    assert html.lstrip().startswith('<section id="cart"')
    assert "Quantity updated" in html and "100.00" in html
    assert 'id="cart-badge"' in html and 'hx-swap-oob="true"' in html and ">4</span>" in html
    assert CartLine.objects.get(pk=line.pk).quantity == 4


def test_htmx_quantity_over_stock_shows_the_error_in_the_cart(client, variant):
    client.post("/cart/add/", {"variant_id": variant.pk})
    line = _page_cart(client).lines.get()
    r = client.post(f"/cart/lines/{line.pk}/", {"quantity": "6"}, **HTMX)
    assert r.status_code == 200 and b"Only 5 of Trail Runner" in r.content
    assert CartLine.objects.get(pk=line.pk).quantity == 1


def test_quantity_zero_and_remove_button_remove_the_line(client, variant):
    client.post("/cart/add/", {"variant_id": variant.pk})
    line = _page_cart(client).lines.get()
    r = client.post(f"/cart/lines/{line.pk}/", {"quantity": "0"}, **HTMX)
    assert b"Your cart is empty" in r.content and b">0</span>" in r.content
    client.post("/cart/add/", {"variant_id": variant.pk})
    line = _page_cart(client).lines.get()
    r = client.post(f"/cart/lines/{line.pk}/remove/")
    assert r.status_code == 302 and r["Location"] == "/cart/"
    assert not CartLine.objects.exists()


def test_another_shoppers_line_cannot_be_changed_from_the_page(client, variant):
    theirs = CartLineFactory(cart__session=ShopperSessionFactory(), quantity=2)
    r = client.post(f"/cart/lines/{theirs.pk}/", {"quantity": "1"}, **HTMX)
    assert r.status_code == 200 and b"No such line" in r.content
    client.post(f"/cart/lines/{theirs.pk}/remove/")
    assert CartLine.objects.get(pk=theirs.pk).quantity == 2


def test_discount_code_form_applies_and_shows_errors(client, variant):
    client.post("/cart/add/", {"variant_id": variant.pk, "quantity": "2"})
    DiscountFactory(code="SAVE10", value=Decimal("10"))
    DiscountFactory(code="WELCOME5", kind="fixed", value=Decimal("5"), min_subtotal=Decimal("60"))
    r = client.post("/cart/discount/", {"code": "welcome5"}, **HTMX)
    assert b'id="discount-error"' in r.content and b"at least 60.00" in r.content
    r = client.post("/cart/discount/", {"code": "save10"}, **HTMX)
    html = r.content.decode()
    assert "Code SAVE10 applied" in html and "−5.00" in html
    assert 'id="cart-badge"' in html
    r = client.post("/cart/discount/remove/", **HTMX)
    assert b"Discount code removed" in r.content and _page_cart(client).discount is None


def test_cart_changing_pages_refuse_get(client):
    assert client.get("/cart/add/").status_code == 405
    assert client.get("/cart/discount/").status_code == 405


def test_page_login_merges_the_guest_cart(client, variant):
    user = UserFactory()
    account = Cart.objects.create(user=user)
    CartLine.objects.create(cart=account, variant=variant, quantity=48)
    other = VariantFactory()
    client.post("/cart/add/", {"variant_id": variant.pk, "quantity": "5"})
    client.post("/cart/add/", {"variant_id": other.pk, "quantity": "1"})
    guest_cart = _page_cart(client)
    r = client.post("/account/login/", {"username": user.email, "password": PASSWORD, "next": "/cart/"})
    assert r.status_code == 302
    assert not Cart.objects.filter(pk=guest_cart.pk).exists()
    assert {line.variant_id: line.quantity for line in account.lines.all()} == {variant.pk: 50, other.pk: 1}
    r = client.get("/cart/")
    assert b">51</span>" in r.content  # the header badge counts the merged cart


def test_page_register_merges_the_guest_cart(client, variant):
    client.post("/cart/add/", {"variant_id": variant.pk, "quantity": "2"})
    r = client.post(
        "/account/register/",
        {"email": "fresh@example.com", "name": "F", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert r.status_code == 302
    cart = Cart.objects.get(user__email="fresh@example.com")
    assert cart.lines.get().quantity == 2
    assert Cart.objects.count() == 1


def test_cart_page_has_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    client.post("/cart/add/", {"variant_id": VariantFactory().pk})
    cart = _page_cart(client)
    for _ in range(5):
        CartLineFactory(cart=cart)
    with django_assert_max_num_queries(8):
        assert client.get("/cart/").status_code == 200


def test_badge_endpoint_counts_the_shoppers_units(client):
    from catalog.tests.factories import VariantFactory

    variant = VariantFactory(stock=10)
    empty = client.get("/cart/badge/")
    assert empty.status_code == 200
    assert b'id="cart-badge"' in empty.content and b"hx-swap-oob" not in empty.content
    assert b'<span class="badge" aria-hidden="true">0</span>' in empty.content
    client.post("/cart/add/", {"variant_id": variant.pk, "quantity": 3})
    after = client.get("/cart/badge/")
    assert b'<span class="badge" aria-hidden="true">3</span>' in after.content


def test_a_lines_size_and_colour_menu_moves_it_to_another_option(client, variant):
    other = VariantFactory(product=variant.product, size="11", color="black", price=variant.price, stock=5)
    sold_out = VariantFactory(product=variant.product, size="12", color="black", price=variant.price, stock=0)
    client.post("/cart/add/", {"variant_id": variant.pk, "quantity": "2"})
    line = _page_cart(client).lines.get()
    page = client.get("/cart/").content.decode()
    assert f'id="option-{line.pk}"' in page
    assert f'<option value="{variant.pk}" selected>Size 10 · Black</option>' in page
    assert f'<option value="{sold_out.pk}" disabled>Size 12 · Black (sold out)</option>' in page

    r = client.post(f"/cart/lines/{line.pk}/option/", {"variant": other.pk}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and "Size and colour changed." in html
    assert f'<option value="{other.pk}" selected>Size 11 · Black</option>' in html
    assert [(li.variant_id, li.quantity) for li in CartLine.objects.all()] == [(other.pk, 2)]

    r = client.post(f"/cart/lines/{line.pk}/option/", {"variant": sold_out.pk}, **HTMX)
    assert "Trail Runner (size 12, black) is sold out." in r.content.decode()
    foreign = VariantFactory(stock=5)
    r = client.post(f"/cart/lines/{line.pk}/option/", {"variant": foreign.pk}, follow=True)
    assert "That option is not one of Trail Runner&#x27;s." in r.content.decode()  # without htmx: a message
    assert [(li.variant_id, li.quantity) for li in CartLine.objects.all()] == [(other.pk, 2)]


def test_a_one_option_product_has_no_menu_and_another_shoppers_line_is_not_found(client, variant):
    client.post("/cart/add/", {"variant_id": variant.pk})
    line = _page_cart(client).lines.get()
    assert f'id="option-{line.pk}"' not in client.get("/cart/").content.decode()
    stranger = CartLineFactory(cart__session=ShopperSessionFactory())
    r = client.post(f"/cart/lines/{stranger.pk}/option/", {"variant": variant.pk}, **HTMX)
    assert "No such line in your cart." in r.content.decode()
    assert CartLine.objects.get(pk=stranger.pk).variant_id == stranger.variant_id
