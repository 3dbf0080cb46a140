"""Reads of carts. :func:`cart_totals` is the one place cart money is computed (CONTRACT.md section 5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Prefetch, QuerySet, Sum
from django.utils import timezone

from carts.models import Cart, CartLine, Discount
from catalog.models import Variant
from catalog.selectors import size_sort_key
from commerce.money import ZERO, quantize
from commerce.prepared import PreparedRead, prepared

if TYPE_CHECKING:
    from commerce.accounts.models import ShopperSession, User
    from commerce.accounts.shoppers import Shopper


@dataclass(frozen=True)
class LineTotal:
    line: CartLine
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class CartTotals:
    lines: list[LineTotal] = field(default_factory=list)
    subtotal: Decimal = ZERO
    discount_code: str | None = None
    discount: Decimal = ZERO
    tax: Decimal = ZERO
    shipping: Decimal = ZERO
    total: Decimal = ZERO
    item_count: int = 0
    discount_note: str = ""


def discount_amount(
    discount: Discount | None, subtotal: Decimal, *, now: datetime | None = None
) -> tuple[Decimal, str]:
    """What ``discount`` takes off ``subtotal`` now, and why not when it takes nothing."""
    if discount is None or subtotal <= 0:
        return ZERO, ""
    if not discount.is_usable(now=now):
        return ZERO, f"Code {discount.code} is no longer valid."
    if subtotal < discount.min_subtotal:
        return ZERO, f"Code {discount.code} needs a subtotal of at least {discount.min_subtotal}."
    if discount.kind == Discount.Kind.PERCENT:
        amount = quantize(subtotal * discount.value / Decimal(100))
    else:
        amount = quantize(discount.value)
    return min(amount, subtotal), ""


def cart_totals(cart: Cart | None, *, now: datetime | None = None) -> CartTotals:
    """Subtotal, discount, tax on the discounted subtotal, flat shipping (none for an empty cart)."""
    if cart is None:
        return CartTotals()
    return totals_for_lines(list(cart.lines.all()), cart.discount, now=now)


def totals_for_lines(
    lines: list[CartLine], discount: Discount | None, *, now: datetime | None = None
) -> CartTotals:
    """The arithmetic of :func:`cart_totals` on lines in memory (no queries beyond what they hold)."""
    now = now or timezone.now()
    line_totals = [
        LineTotal(
            line=line, unit_price=line.variant.price, line_total=quantize(line.variant.price * line.quantity)
        )
        for line in lines
    ]
    subtotal = quantize(sum((lt.line_total for lt in line_totals), ZERO))
    amount, note = discount_amount(discount, subtotal, now=now)
    taxable = subtotal - amount
    tax = quantize(taxable * settings.CART_TAX_RATE)
    shipping = quantize(settings.DEFAULT_SHIPPING_FEE) if line_totals else ZERO
    return CartTotals(
        lines=line_totals,
        subtotal=subtotal,
        discount_code=discount.code if discount else None,
        discount=amount,
        tax=tax,
        shipping=shipping,
        total=quantize(taxable + tax + shipping),
        item_count=sum(lt.line.quantity for lt in line_totals),
        discount_note=note,
    )


def cart_with_lines(queryset: QuerySet[Cart] | None = None) -> QuerySet[Cart]:
    """Carts with everything :func:`cart_totals` and the serializers read, in a fixed number of queries."""
    queryset = queryset if queryset is not None else Cart.objects.all()
    return queryset.select_related("discount").prefetch_related(
        Prefetch(
            "lines", queryset=prepared(CartLine.objects.select_related("variant__product"), "carts.lines")
        )
    )


def cart_with_lines_known(cart: Cart, *, lines: list[CartLine]) -> Cart:
    """``cart`` as :func:`cart_with_lines` would read it, from rows already in memory: a write that
    has just read and changed every line under the cart's lock answers with them at no query.
    ``lines`` must hold their variants and products, and the cart its discount (or none)."""
    # What prefetch_related leaves behind (Django's own attributes), filled from memory.
    known = CartLine.objects.filter(cart=cart)
    known._result_cache = lines
    known.__dict__["_prefetch_done"] = True
    cart.__dict__.setdefault("_prefetched_objects_cache", {})["lines"] = known
    return cart


def cart_line_options(cart: Cart | None) -> dict[int, list[Variant]]:
    """Per cart line id, every size/colour of its product, by colour then size (one query for the
    whole cart): what the cart page offers to change a line to. One-option products are left out."""
    if cart is None:
        return {}
    lines = list(cart.lines.all())
    by_product: dict[int, list[Variant]] = {}
    for variant in Variant.objects.filter(product__in={line.variant.product_id for line in lines}):
        by_product.setdefault(variant.product_id, []).append(variant)
    for variants in by_product.values():
        variants.sort(key=lambda v: (v.color, size_sort_key(v.size)))
    return {
        line.pk: by_product[line.variant.product_id]
        for line in lines
        if len(by_product.get(line.variant.product_id, ())) > 1
    }


# The reads every cart page, cart tool and cart write starts with: their SQL and row loading are built
# once per process (commerce.prepared.PreparedRead).
_CART_OF_USER = PreparedRead(
    "carts.of_user",
    lambda user_pk: Cart.objects.filter(user_id=user_pk).select_related("discount").order_by("pk")[:1],
)
_CART_OF_SESSION = PreparedRead(
    "carts.of_session",
    lambda session_pk: (
        Cart.objects.filter(session_id=session_pk).select_related("discount").order_by("pk")[:1]
    ),
)
# A cart with lines in one read: its lines (in the cart's order), each with the cart and its discount.
_LINES_OF_USER_CART = PreparedRead(
    "carts.lines_of_user_cart",
    lambda user_pk: CartLine.objects.filter(cart__user_id=user_pk).select_related(
        "cart__discount", "variant__product"
    ),
)
_LINES_OF_SESSION_CART = PreparedRead(
    "carts.lines_of_session_cart",
    lambda session_pk: CartLine.objects.filter(cart__session_id=session_pk).select_related(
        "cart__discount", "variant__product"
    ),
)
_LINES_OF_CART = PreparedRead(
    "carts.lines_of_cart",
    lambda cart_pk: CartLine.objects.filter(cart_id=cart_pk).select_related("variant__product"),
)


def cart_lines(cart: Cart) -> list[CartLine]:
    """Every line of ``cart`` (in the cart's order) with its variant and product; each line's ``cart``
    is the one given, as reading them through ``cart.lines`` would leave it."""
    lines = _LINES_OF_CART.all(cart.pk)
    for line in lines:
        CartLine.cart.field.set_cached_value(line, cart)
    return lines


def cart_for_shopper(shopper: Shopper | None) -> Cart | None:
    """The open cart of a signed-in user or of a guest session, with its discount and lines (each with
    its variant and product); None when there is none. One query when the cart has lines (the lines
    with their cart joined), two when it has none or there is no cart."""
    if shopper is None:
        return None
    if shopper.user is not None:
        lines, only_cart, owner = _LINES_OF_USER_CART, _CART_OF_USER, shopper.user.pk
    elif shopper.session is not None:
        lines, only_cart, owner = _LINES_OF_SESSION_CART, _CART_OF_SESSION, shopper.session.pk
    else:
        return None
    found = lines.all(owner)
    if found:
        cart = found[0].cart
        for line in found[1:]:  # one cart instance for every line, as ``cart.lines`` would leave them
            CartLine.cart.field.set_cached_value(line, cart)
        return cart_with_lines_known(cart, lines=found)
    alone = only_cart.first(owner)
    return None if alone is None else cart_with_lines_known(alone, lines=[])


def cart_item_count(shopper: Shopper | None) -> int:
    """Units in the shopper's cart, for the header badge (one query, no line objects)."""
    if shopper is None or (shopper.user is None and shopper.session is None):
        return 0
    owner: dict[str, User | ShopperSession | None] = (
        {"cart__user": shopper.user} if shopper.user is not None else {"cart__session": shopper.session}
    )
    return CartLine.objects.filter(**owner).aggregate(n=Sum("quantity"))["n"] or 0
