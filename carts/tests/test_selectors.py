from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from carts.models import CartLine, Discount
from carts.selectors import cart_for_shopper, cart_item_count, cart_totals, cart_with_lines, totals_for_lines
from carts.tests.factories import CartLineFactory, DiscountFactory
from catalog.models import Variant
from commerce.accounts.shoppers import Shopper
from commerce.money import quantize

prices = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("9999.99"), places=2)
quantities = st.integers(min_value=1, max_value=50)
lines_strategy = st.lists(st.tuples(prices, quantities), max_size=12)
discounts = st.one_of(
    st.none(),
    st.builds(
        lambda value, minimum: Discount(
            code="P", kind=Discount.Kind.PERCENT, value=value, min_subtotal=minimum
        ),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100.00"), places=2),
        st.decimals(min_value=Decimal("0.00"), max_value=Decimal("500.00"), places=2),
    ),
    st.builds(
        lambda value, minimum: Discount(
            code="F", kind=Discount.Kind.FIXED, value=value, min_subtotal=minimum
        ),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000.00"), places=2),
        st.decimals(min_value=Decimal("0.00"), max_value=Decimal("500.00"), places=2),
    ),
)


def _lines(spec) -> list[CartLine]:
    return [CartLine(variant=Variant(price=price), quantity=quantity) for price, quantity in spec]


def _two_places(amount: Decimal) -> bool:
    return isinstance(amount, Decimal) and amount.as_tuple().exponent == -2


@given(lines_strategy, discounts)
def test_totals_are_never_negative_and_always_two_places(spec, discount):
    totals = totals_for_lines(_lines(spec), discount)
    for amount in (totals.subtotal, totals.discount, totals.tax, totals.shipping, totals.total):
        assert amount >= 0
        assert _two_places(amount)
    for lt in totals.lines:
        assert _two_places(lt.line_total)


@given(lines_strategy, discounts)
def test_subtotal_is_the_sum_of_the_lines(spec, discount):
    totals = totals_for_lines(_lines(spec), discount)
    assert totals.subtotal == sum((quantize(price * qty) for price, qty in spec), Decimal("0.00"))
    assert totals.subtotal == sum((lt.line_total for lt in totals.lines), Decimal("0.00"))
    assert totals.item_count == sum(qty for _, qty in spec)


@given(lines_strategy, discounts)
def test_tax_is_on_the_discounted_subtotal_and_total_adds_up(spec, discount):
    totals = totals_for_lines(_lines(spec), discount)
    assert totals.discount <= totals.subtotal
    assert totals.tax == quantize((totals.subtotal - totals.discount) * settings.CART_TAX_RATE)
    assert totals.total == totals.subtotal - totals.discount + totals.tax + totals.shipping


@given(lines_strategy)
def test_shipping_is_charged_only_on_a_cart_with_lines(spec):
    totals = totals_for_lines(_lines(spec), None)
    assert totals.shipping == (quantize(settings.DEFAULT_SHIPPING_FEE) if spec else Decimal("0.00"))


def test_known_example_of_the_contract_math():
    # 2 x 50.00 = 100.00; SAVE10 takes 10.00; tax 8% of 90.00 = 7.20; shipping 5.99; 90 + 7.20 + 5.99.
    totals = totals_for_lines(
        _lines([(Decimal("50.00"), 2)]), Discount(code="SAVE10", kind="percent", value=Decimal("10"))
    )
    assert (totals.subtotal, totals.discount, totals.tax, totals.shipping, totals.total) == (
        Decimal("100.00"),
        Decimal("10.00"),
        Decimal("7.20"),
        Decimal("5.99"),
        Decimal("103.19"),
    )


def test_a_fixed_discount_never_takes_more_than_the_subtotal():
    totals = totals_for_lines(
        _lines([(Decimal("3.00"), 1)]), Discount(code="F", kind="fixed", value=Decimal("5"))
    )
    assert totals.discount == Decimal("3.00") and totals.tax == Decimal("0.00")


def test_a_discount_that_stopped_applying_takes_nothing_and_says_why():
    now = timezone.now()
    started = now - timedelta(days=1)
    below_min = Discount(
        code="MIN", kind="fixed", value=Decimal("5"), min_subtotal=Decimal("50"), starts_at=started
    )
    expired = Discount(
        code="OLD", kind="fixed", value=Decimal("5"), starts_at=started, ends_at=now - timedelta(seconds=1)
    )
    for discount, words in ((below_min, "at least 50"), (expired, "no longer valid")):
        totals = totals_for_lines(_lines([(Decimal("10.00"), 1)]), discount, now=now)
        assert totals.discount == Decimal("0.00") and words in totals.discount_note
        assert totals.discount_code == discount.code


@pytest.mark.django_db
def test_cart_totals_of_a_stored_cart(guest):
    line = CartLineFactory(cart__session=guest.session, variant__price=Decimal("19.99"), quantity=3)
    line.cart.discount = DiscountFactory(code="HALF", value=Decimal("50"))
    line.cart.save()
    totals = cart_totals(cart_for_shopper(guest))
    assert totals.subtotal == Decimal("59.97") and totals.discount == Decimal("29.99")
    assert totals.tax == Decimal("2.40")  # 8% of 29.98 = 2.3984
    assert cart_totals(None).total == Decimal("0.00")


@pytest.mark.django_db
def test_cart_totals_reads_a_cart_in_a_fixed_number_of_queries(guest, django_assert_num_queries):
    cart = CartLineFactory(cart__session=guest.session, cart__discount=DiscountFactory()).cart
    for _ in range(4):
        CartLineFactory(cart=cart)
    with django_assert_num_queries(2):  # cart joined with its discount; lines joined with variants, products
        totals = cart_totals(cart_with_lines().get(pk=cart.pk))
        assert len(totals.lines) == 5 and all(lt.line.variant.product.name for lt in totals.lines)


@pytest.mark.django_db
def test_item_count_and_cart_for_shopper_see_only_the_shoppers_cart(guest, member):
    guest_cart = CartLineFactory(cart__session=guest.session, quantity=2).cart
    CartLineFactory(cart=guest_cart, quantity=3)
    CartLineFactory(cart__session=None, cart__user=member.user, quantity=7)
    assert cart_item_count(guest) == 5
    assert cart_item_count(member) == 7
    assert cart_item_count(Shopper(user=None, session=None)) == 0
    assert cart_item_count(None) == 0
    assert cart_for_shopper(Shopper(user=None, session=None)) is None


@pytest.mark.django_db
@pytest.mark.parametrize("owner", ["guest", "member"])
def test_a_shoppers_cart_with_lines_is_one_query_and_an_empty_one_two(
    owner, request, django_assert_num_queries
):
    shopper = request.getfixturevalue(owner)
    mine = {"cart__session": shopper.session} if owner == "guest" else {"cart__user": shopper.user}
    if owner == "member":
        mine["cart__session"] = None
    cart = CartLineFactory(**mine, cart__discount=DiscountFactory(code="TEN"), quantity=2).cart
    CartLineFactory(cart=cart, quantity=3)
    with django_assert_num_queries(1):  # the lines with their cart, its discount, variants and products
        read = cart_for_shopper(shopper)
        lines = list(read.lines.all())
        assert read.pk == cart.pk and read.discount.code == "TEN"
        assert [line.quantity for line in lines] == [2, 3]  # the cart's order
        assert all(line.cart is read and line.variant.product.name for line in lines)
    cart.lines.all().delete()
    with django_assert_num_queries(2):  # no lines: the cart is read on its own
        empty = cart_for_shopper(shopper)
        assert empty.pk == cart.pk and empty.discount.code == "TEN" and list(empty.lines.all()) == []
    cart.delete()
    with django_assert_num_queries(2):
        assert cart_for_shopper(shopper) is None
