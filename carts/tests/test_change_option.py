"""Moving a cart line to another size or colour of the same product (the chat's "make it a large")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carts.models import CartLine
from carts.services import cart_add_item, cart_change_option
from catalog.tests.factories import ProductFactory, VariantFactory
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import ShopperSessionFactory
from commerce.errors import DomainError, InvalidInput, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def hoodie():
    product = ProductFactory(name="Cloud Hoodie")
    variants = {
        (size, color): VariantFactory(
            product=product,
            sku=f"CH-{size}-{color}",
            size=size,
            color=color,
            price=Decimal("59.00"),
            stock=10,
        )
        for size, color in [("M", "grey"), ("L", "grey"), ("M", "neon yellow"), ("S", "black")]
    }
    return product, variants


def _lines(shopper: Shopper) -> dict[str, int]:
    return {
        line.variant.sku: line.quantity
        for line in CartLine.objects.filter(cart__session=shopper.session).select_related("variant")
    }


def _add(shopper, variant, quantity=2) -> CartLine:
    cart_add_item(shopper=shopper, variant_id=variant.pk, quantity=quantity)
    return CartLine.objects.get(cart__session=shopper.session, variant=variant)


def test_a_new_size_keeps_the_colour_and_the_quantity(guest, hoodie):
    _, v = hoodie
    line = _add(guest, v["M", "grey"])
    cart, changed = cart_change_option(shopper=guest, line_id=line.pk, size="l")
    assert changed.pk == line.pk and changed.variant == v["L", "grey"]
    assert _lines(guest) == {"CH-L-grey": 2}


def test_a_colour_named_by_one_of_its_words_is_the_products_own_colour(guest, hoodie):
    _, v = hoodie
    line = _add(guest, v["M", "grey"])
    cart_change_option(shopper=guest, line_id=line.pk, color="Neon")
    assert _lines(guest) == {"CH-M-neon yellow": 2}


def test_changing_to_an_option_already_in_the_cart_makes_one_line(guest, hoodie):
    _, v = hoodie
    _add(guest, v["L", "grey"], quantity=3)
    line = _add(guest, v["M", "grey"], quantity=2)
    _, changed = cart_change_option(shopper=guest, line_id=line.pk, size="L")
    assert _lines(guest) == {"CH-L-grey": 5}
    assert changed.quantity == 5 and not CartLine.objects.filter(pk=line.pk).exists()


def test_an_option_not_made_names_what_is_and_changes_nothing(guest, hoodie):
    _, v = hoodie
    line = _add(guest, v["M", "grey"])
    with pytest.raises(NotFound) as exc:
        cart_change_option(shopper=guest, line_id=line.pk, size="XXL")
    assert exc.value.code == "variant_not_found"
    assert exc.value.message == "Cloud Hoodie does not come in size XXL in grey. In grey it comes in M, L."
    with pytest.raises(NotFound) as exc:
        cart_change_option(shopper=guest, line_id=line.pk, color="purple")
    assert (
        exc.value.message
        == "Cloud Hoodie does not come in size M in purple. It comes in black, grey, neon yellow."
    )
    assert _lines(guest) == {"CH-M-grey": 2}


def test_an_option_without_the_stock_is_refused_and_the_line_stays(guest, hoodie):
    _, v = hoodie
    v["L", "grey"].stock = 1
    v["L", "grey"].save()
    line = _add(guest, v["M", "grey"], quantity=2)
    with pytest.raises(DomainError) as exc:
        cart_change_option(shopper=guest, line_id=line.pk, size="L")
    assert exc.value.code == "insufficient_stock"
    assert _lines(guest) == {"CH-M-grey": 2}


def test_a_merge_past_the_line_limit_is_refused(guest, hoodie):
    _, v = hoodie
    for variant in (v["L", "grey"], v["M", "grey"]):
        variant.stock = 100
        variant.save()
    _add(guest, v["L", "grey"], quantity=40)
    line = _add(guest, v["M", "grey"], quantity=20)
    with pytest.raises(DomainError) as exc:
        cart_change_option(shopper=guest, line_id=line.pk, size="L")
    assert exc.value.code == "line_quantity_limit"
    assert _lines(guest) == {"CH-L-grey": 40, "CH-M-grey": 20}


def test_the_same_option_is_no_change(guest, hoodie):
    _, v = hoodie
    line = _add(guest, v["M", "grey"])
    _, changed = cart_change_option(shopper=guest, line_id=line.pk, size="M", color="grey")
    assert changed.pk == line.pk and _lines(guest) == {"CH-M-grey": 2}


def test_another_shoppers_line_is_not_found_and_nothing_is_asked_for_is_invalid(guest, hoodie):
    _, v = hoodie
    other = Shopper(user=None, session=ShopperSessionFactory())
    line = _add(other, v["M", "grey"])
    with pytest.raises(NotFound):
        cart_change_option(shopper=guest, line_id=line.pk, size="L")
    with pytest.raises(InvalidInput):
        cart_change_option(shopper=other, line_id=line.pk)
    assert _lines(other) == {"CH-M-grey": 2}


def test_a_product_no_longer_sold_is_said_so_not_that_the_option_is_missing(guest, hoodie):
    product, v = hoodie
    line = _add(guest, v["M", "grey"])
    product.is_active = False
    product.save()
    with pytest.raises(NotFound) as exc:
        cart_change_option(shopper=guest, line_id=line.pk, size="L")
    assert exc.value.message == "Cloud Hoodie is no longer sold."
    assert _lines(guest) == {"CH-M-grey": 2}
