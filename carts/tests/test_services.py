from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from carts.errors import VariantProductMismatch
from carts.models import Cart, CartLine, Discount
from carts.selectors import cart_for_shopper, cart_totals
from carts.services import (
    cart_add_item,
    cart_apply_discount,
    cart_clear,
    cart_get_or_create_for_shopper,
    cart_merge_guest_into_user,
    cart_remove_discount,
    cart_remove_line,
    cart_set_quantity,
    discount_record_use,
)
from carts.tests.factories import CartLineFactory, DiscountFactory
from catalog.tests.factories import ProductFactory, VariantFactory
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import ShopperSessionFactory, UserFactory
from commerce.errors import DomainError, InvalidInput, NotFound

pytestmark = pytest.mark.django_db


def _lines(shopper):
    return {line.variant_id: line.quantity for line in cart_for_shopper(shopper).lines.all()}


# --- cart_get_or_create_for_shopper --------------------------------------------------------------------


def test_get_or_create_returns_the_same_cart_each_time(guest):
    assert (
        cart_get_or_create_for_shopper(shopper=guest).pk == cart_get_or_create_for_shopper(shopper=guest).pk
    )


def test_a_signed_in_shopper_uses_the_account_cart_not_the_sessions(user):
    session = ShopperSessionFactory(user=user)
    cart = cart_get_or_create_for_shopper(shopper=Shopper(user=user, session=session))
    assert cart.user == user and cart.session is None


def test_a_shopper_without_user_or_session_cannot_have_a_cart(db):
    with pytest.raises(InvalidInput) as exc:
        cart_get_or_create_for_shopper(shopper=Shopper(user=None, session=None))
    assert exc.value.code == "session_required"


# --- adding ---------------------------------------------------------------------------------------------


def test_adding_the_same_variant_adds_to_its_line(guest):
    variant = VariantFactory(stock=10)
    cart_add_item(shopper=guest, variant_id=variant.pk, quantity=2)
    cart_add_item(shopper=guest, variant_id=str(variant.pk), quantity=3)
    assert _lines(guest) == {variant.pk: 5}
    assert CartLine.objects.count() == 1


def test_adding_more_than_stock_is_refused_naming_what_is_left(guest):
    variant = VariantFactory(stock=3, product__name="Trail Runner", size="10", color="black")
    with pytest.raises(DomainError) as exc:
        cart_add_item(shopper=guest, variant_id=variant.pk, quantity=4)
    assert exc.value.code == "insufficient_stock"
    assert "Only 3 of Trail Runner (size 10, black) left" in exc.value.message
    assert exc.value.details["available"] == 3
    assert not CartLine.objects.exists()


def test_stock_refusal_counts_what_is_already_in_the_cart(guest):
    variant = VariantFactory(stock=3)
    cart_add_item(shopper=guest, variant_id=variant.pk, quantity=2)
    with pytest.raises(DomainError) as exc:
        cart_add_item(shopper=guest, variant_id=variant.pk, quantity=2)
    assert exc.value.code == "insufficient_stock"
    assert "already have 2" in exc.value.message
    assert _lines(guest) == {variant.pk: 2}


def test_a_sold_out_variant_is_refused_as_sold_out(guest):
    variant = VariantFactory(stock=0)
    with pytest.raises(DomainError) as exc:
        cart_add_item(shopper=guest, variant_id=variant.pk, quantity=1)
    assert exc.value.code == "insufficient_stock" and "sold out" in exc.value.message


@pytest.mark.parametrize("quantity", [0, -1, 51, 1000])
def test_add_quantity_must_be_1_to_50(guest, quantity):
    variant = VariantFactory(stock=2000)
    with pytest.raises(InvalidInput) as exc:
        cart_add_item(shopper=guest, variant_id=variant.pk, quantity=quantity)
    assert exc.value.code == "invalid_quantity" and exc.value.status_code == 400


@pytest.mark.parametrize("quantity", [1, 50])
def test_add_quantity_bounds_are_inclusive(guest, quantity):
    variant = VariantFactory(stock=100)
    cart_add_item(shopper=guest, variant_id=variant.pk, quantity=quantity)
    assert _lines(guest) == {variant.pk: quantity}


def test_a_line_never_grows_past_50(guest):
    variant = VariantFactory(stock=100)
    cart_add_item(shopper=guest, variant_id=variant.pk, quantity=45)
    with pytest.raises(DomainError) as exc:
        cart_add_item(shopper=guest, variant_id=variant.pk, quantity=6)
    assert exc.value.code == "line_quantity_limit" and "add 5 more" in exc.value.message
    assert _lines(guest) == {variant.pk: 45}


@pytest.mark.parametrize("variant_id", [999999, "abc", "", None, "-3"])
def test_unknown_variant_is_not_found(guest, variant_id):
    with pytest.raises(NotFound) as exc:
        cart_add_item(shopper=guest, variant_id=variant_id, quantity=1)
    assert exc.value.code == "variant_not_found"


def test_a_variant_of_an_inactive_product_is_not_found(guest):
    variant = VariantFactory(product__is_active=False)
    with pytest.raises(NotFound):
        cart_add_item(shopper=guest, variant_id=variant.pk, quantity=1)


def test_a_variant_the_caller_just_read_is_added_without_reading_it_again(guest):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.models import Variant

    variant = Variant.objects.select_related("product").get(pk=VariantFactory(stock=5).pk)
    with CaptureQueriesContext(connection) as captured:
        cart = cart_add_item(shopper=guest, variant_id=variant.pk, quantity=2, variant=variant)
    assert not [q for q in captured.captured_queries if 'FROM "catalog_variant"' in q["sql"]]
    assert [(line.variant_id, line.quantity) for line in cart.lines.all()] == [(variant.pk, 2)]


def test_a_variant_handed_in_keeps_the_rules_inactive_refused_another_id_read(guest):
    from catalog.models import Variant

    retired = Variant.objects.select_related("product").get(pk=VariantFactory(product__is_active=False).pk)
    with pytest.raises(NotFound):
        cart_add_item(shopper=guest, variant_id=retired.pk, quantity=1, variant=retired)
    # a variant object that is not the id asked for is not trusted: the id is read as usual
    wanted = VariantFactory(stock=3)
    cart = cart_add_item(shopper=guest, variant_id=wanted.pk, quantity=1, variant=retired)
    assert [line.variant_id for line in cart.lines.all()] == [wanted.pk]


def test_product_id_must_be_the_variants_product(guest):
    variant = VariantFactory()
    other = ProductFactory()
    with pytest.raises(VariantProductMismatch) as exc:
        cart_add_item(shopper=guest, variant_id=variant.pk, product_id=other.pk, quantity=1)
    assert exc.value.code == "variant_product_mismatch"
    cart_add_item(shopper=guest, variant_id=variant.pk, product_id=str(variant.product_id), quantity=1)
    assert _lines(guest) == {variant.pk: 1}


def test_every_write_touches_updated_at(guest):
    variant = VariantFactory(stock=10)
    discount = DiscountFactory()
    cart = cart_get_or_create_for_shopper(shopper=guest)
    long_ago = timezone.now() - timedelta(days=1)

    def touched(write) -> bool:
        Cart.objects.filter(pk=cart.pk).update(updated_at=long_ago)
        write()
        return Cart.objects.get(pk=cart.pk).updated_at > long_ago

    assert touched(lambda: cart_add_item(shopper=guest, variant_id=variant.pk, quantity=1))
    line = CartLine.objects.get()
    assert touched(lambda: cart_set_quantity(shopper=guest, line_id=line.pk, quantity=3))
    assert touched(lambda: cart_apply_discount(shopper=guest, code=discount.code))
    assert touched(lambda: cart_remove_discount(shopper=guest))
    assert touched(lambda: cart_remove_line(shopper=guest, line_id=line.pk))
    assert touched(lambda: cart_clear(cart=cart))


# --- quantity, removal ----------------------------------------------------------------------------------


def test_set_quantity_changes_the_line_and_zero_removes_it(guest):
    line = CartLineFactory(cart__session=guest.session, quantity=2)
    cart_set_quantity(shopper=guest, line_id=str(line.pk), quantity=4)
    assert CartLine.objects.get(pk=line.pk).quantity == 4
    cart_set_quantity(shopper=guest, line_id=line.pk, quantity=0)
    assert not CartLine.objects.filter(pk=line.pk).exists()


@pytest.mark.parametrize("quantity", [-1, 51])
def test_set_quantity_bounds(guest, quantity):
    line = CartLineFactory(cart__session=guest.session, quantity=2, variant__stock=100)
    with pytest.raises(InvalidInput):
        cart_set_quantity(shopper=guest, line_id=line.pk, quantity=quantity)


def test_raising_a_quantity_past_stock_is_refused_but_lowering_is_always_allowed(guest):
    line = CartLineFactory(cart__session=guest.session, quantity=5, variant__stock=6)
    with pytest.raises(DomainError) as exc:
        cart_set_quantity(shopper=guest, line_id=line.pk, quantity=7)
    assert exc.value.code == "insufficient_stock" and "Only 6" in exc.value.message
    line.variant.stock = 1
    line.variant.save()
    cart_set_quantity(shopper=guest, line_id=line.pk, quantity=3)  # stock fell; lowering still works
    assert CartLine.objects.get(pk=line.pk).quantity == 3


def test_another_carts_line_is_not_found(guest, member):
    theirs = CartLineFactory(cart__session=ShopperSessionFactory())
    users = CartLineFactory(cart__session=None, cart__user=member.user)
    for line in (theirs, users):
        with pytest.raises(NotFound):
            cart_set_quantity(shopper=guest, line_id=line.pk, quantity=3)
        with pytest.raises(NotFound):
            cart_remove_line(shopper=guest, line_id=line.pk)
    with pytest.raises(NotFound):
        cart_remove_line(shopper=member, line_id=theirs.pk)
    assert CartLine.objects.get(pk=theirs.pk).quantity == 1


def test_remove_line(guest):
    line = CartLineFactory(cart__session=guest.session)
    cart_remove_line(shopper=guest, line_id=line.pk)
    assert not CartLine.objects.exists()


def test_clear_removes_lines_and_discount(guest):
    line = CartLineFactory(cart__session=guest.session, cart__discount=DiscountFactory())
    cart = line.cart
    cart_clear(cart=cart)
    cart.refresh_from_db()
    assert cart.lines.count() == 0 and cart.discount is None and cart.discount_id is None


# --- discounts -----------------------------------------------------------------------------------------


@pytest.fixture
def filled(guest):
    """A guest cart with a subtotal of 100.00."""
    CartLineFactory(cart__session=guest.session, variant__price=Decimal("50.00"), quantity=2)
    return guest


def _refused(shopper, code: str) -> DomainError:
    with pytest.raises(DomainError) as exc:
        cart_apply_discount(shopper=shopper, code=code)
    assert cart_for_shopper(shopper).discount is None
    return exc.value


def test_a_percent_code_applies_case_insensitively(filled):
    DiscountFactory(code="SAVE10", value=Decimal("10"))
    cart_apply_discount(shopper=filled, code="  save10 ")
    totals = cart_totals(cart_for_shopper(filled))
    assert totals.discount_code == "SAVE10" and totals.discount == Decimal("10.00")


def test_a_fixed_code_takes_its_amount(filled):
    DiscountFactory(code="FIVE", kind=Discount.Kind.FIXED, value=Decimal("5"))
    cart_apply_discount(shopper=filled, code="five")
    assert cart_totals(cart_for_shopper(filled)).discount == Decimal("5.00")


def test_unknown_code_is_invalid(filled):
    assert _refused(filled, "NOPE").code == "discount_invalid"


def test_inactive_code_is_invalid(filled):
    DiscountFactory(code="OFF", is_active=False)
    assert _refused(filled, "off").code == "discount_invalid"


def test_expired_code_is_refused(filled):
    DiscountFactory(code="OLD", ends_at=timezone.now() - timedelta(seconds=1))
    assert _refused(filled, "old").code == "discount_expired"


def test_not_yet_valid_code_is_refused(filled):
    DiscountFactory(code="SOON", starts_at=timezone.now() + timedelta(days=1))
    assert _refused(filled, "soon").code == "discount_not_started"


def test_exhausted_code_is_refused(filled):
    DiscountFactory(code="ONCE", usage_limit=1, times_used=1)
    assert _refused(filled, "once").code == "discount_exhausted"


def test_min_subtotal_is_enforced_with_both_amounts_named(filled):
    DiscountFactory(code="BIG", kind=Discount.Kind.FIXED, value=Decimal("5"), min_subtotal=Decimal("100.01"))
    error = _refused(filled, "big")
    assert error.code == "discount_min_subtotal"
    assert "100.01" in error.message and "100.00" in error.message
    DiscountFactory(
        code="EXACT", kind=Discount.Kind.FIXED, value=Decimal("5"), min_subtotal=Decimal("100.00")
    )
    cart_apply_discount(shopper=filled, code="exact")
    assert cart_totals(cart_for_shopper(filled)).discount == Decimal("5.00")


def test_empty_code_is_invalid_input(filled):
    with pytest.raises(InvalidInput):
        cart_apply_discount(shopper=filled, code="  ")


def test_a_new_code_replaces_the_old_one_and_remove_discount_clears_it(filled):
    DiscountFactory(code="A")
    DiscountFactory(code="B")
    cart_apply_discount(shopper=filled, code="a")
    cart_apply_discount(shopper=filled, code="b")
    assert cart_for_shopper(filled).discount.code == "B"
    cart_remove_discount(shopper=filled)
    assert cart_for_shopper(filled).discount is None


def test_record_use_counts_and_refuses_past_the_limit(db):
    discount = DiscountFactory(usage_limit=2)
    discount_record_use(discount=discount)
    discount_record_use(discount=discount)
    assert discount.times_used == 2
    with pytest.raises(DomainError) as exc:
        discount_record_use(discount=discount)
    assert exc.value.code == "discount_exhausted"
    assert Discount.objects.get(pk=discount.pk).times_used == 2


def test_record_use_without_limit_always_counts(db):
    discount = DiscountFactory(usage_limit=None)
    for _ in range(3):
        discount_record_use(discount=discount)
    assert Discount.objects.get(pk=discount.pk).times_used == 3


# --- merge (CONTRACT.md section 5) ---------------------------------------------------------------------


@pytest.fixture
def account(db):
    return UserFactory()


def test_merge_moves_lines_into_a_new_account_cart(guest, account):
    line = CartLineFactory(cart__session=guest.session, quantity=3)
    merged = cart_merge_guest_into_user(user=account, guest_session=guest.session)
    assert merged.user == account
    assert {line.variant_id: line.quantity for line in merged.lines.all()} == {line.variant_id: 3}


def test_merge_adds_quantities_of_the_same_variant(guest, account):
    variant = VariantFactory()
    other = VariantFactory()
    CartLineFactory(cart__session=None, cart__user=account, variant=variant, quantity=2)
    guest_cart = CartLineFactory(cart__session=guest.session, variant=variant, quantity=3).cart
    CartLineFactory(cart=guest_cart, variant=other, quantity=1)
    merged = cart_merge_guest_into_user(user=account, guest_session=guest.session)
    assert {line.variant_id: line.quantity for line in merged.lines.all()} == {variant.pk: 5, other.pk: 1}


def test_merge_caps_a_line_at_50(guest, account):
    variant = VariantFactory()
    CartLineFactory(cart__session=None, cart__user=account, variant=variant, quantity=40)
    CartLineFactory(cart__session=guest.session, variant=variant, quantity=30)
    merged = cart_merge_guest_into_user(user=account, guest_session=guest.session)
    assert merged.lines.get().quantity == 50


def test_merge_keeps_account_lines_the_guest_did_not_have(guest, account):
    kept = CartLineFactory(cart__session=None, cart__user=account, quantity=4)
    CartLineFactory(cart__session=guest.session)
    merged = cart_merge_guest_into_user(user=account, guest_session=guest.session)
    assert merged.lines.get(variant=kept.variant).quantity == 4 and merged.lines.count() == 2


def test_guest_discount_carries_over_when_the_account_cart_has_none(guest, account):
    code = DiscountFactory(code="GUEST")
    CartLineFactory(cart__session=None, cart__user=account)
    CartLineFactory(cart__session=guest.session, cart__discount=code)
    assert cart_merge_guest_into_user(user=account, guest_session=guest.session).discount == code


def test_account_discount_wins_over_the_guests(guest, account):
    mine = DiscountFactory(code="MINE")
    CartLineFactory(cart__session=None, cart__user=account, cart__discount=mine)
    CartLineFactory(cart__session=guest.session, cart__discount=DiscountFactory(code="GUEST"))
    merged = cart_merge_guest_into_user(user=account, guest_session=guest.session)
    assert Cart.objects.get(pk=merged.pk).discount == mine


def test_guest_cart_is_gone_after_merge(guest, account):
    guest_cart = CartLineFactory(cart__session=guest.session).cart
    cart_merge_guest_into_user(user=account, guest_session=guest.session)
    assert not Cart.objects.filter(pk=guest_cart.pk).exists()
    assert not Cart.objects.filter(session=guest.session).exists()


def test_merge_without_guest_cart_or_session_changes_nothing(guest, account):
    assert cart_merge_guest_into_user(user=account, guest_session=None) is None
    assert cart_merge_guest_into_user(user=account, guest_session=guest.session) is None
    assert not Cart.objects.exists()
