"""Writes to carts. Every rule about what a cart may hold lives here, for every channel alike.

Every write touches ``Cart.updated_at``: abandoned-cart detection (voice recovery, the admin's
"abandoned" filter) reads that column, so a cart the shopper is working on must never look idle.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from carts.errors import (
    CartLineNotFound,
    DiscountCodeRequired,
    DiscountExhausted,
    DiscountExpired,
    DiscountInvalid,
    DiscountMinSubtotal,
    DiscountNotStarted,
    InsufficientStock,
    InvalidQuantity,
    LineQuantityLimit,
    OptionRequired,
    SessionRequired,
    VariantNotFound,
    VariantProductMismatch,
)
from carts.models import AbandonmentReason, Cart, CartLine, Discount
from carts.selectors import cart_lines, cart_totals, cart_with_lines, cart_with_lines_known
from catalog.models import Product, Variant
from catalog.selectors import matching_option
from commerce.accounts.models import ShopperSession, User
from commerce.accounts.shoppers import Shopper
from commerce.errors import InvalidInput
from commerce.inserts import inserted_unless_taken
from commerce.money import money_str
from commerce.prepared import PreparedRead
from commerce.updates import rows_updated_together

MAX_LINE = settings.CART_MAX_LINE_QUANTITY


def _owner_filter(shopper: Shopper | None) -> dict[str, User | ShopperSession] | None:
    if shopper is None:
        return None
    if shopper.user is not None:
        return {"user": shopper.user}
    if shopper.session is not None:
        return {"session": shopper.session}
    return None


_NO_REASON: dict[str, object] = {
    "abandonment_reason": "",
    "abandonment_source": "",
    "abandonment_note": "",
    "abandonment_reason_at": None,
}


def _touch(cart: Cart, *, reason: dict[str, object] | None = None, line: CartLine | None = None) -> None:
    """Marks the cart as just changed by the shopper. A reason they gave for leaving it is over then
    (they are back at it), unless ``reason`` is what they just gave. ``line``: a line whose new
    quantity is written with it (one statement on PostgreSQL, built once per process)."""
    cart.updated_at = timezone.now()
    fields = {"updated_at": cart.updated_at, **(reason or _NO_REASON)}
    line_update = [(line, {"quantity": line.quantity})] if line is not None else []
    rows_updated_together(*line_update, (cart, fields))
    for name, value in fields.items():
        setattr(cart, name, value)


def cart_get_or_create_for_shopper(*, shopper: Shopper) -> Cart:
    """The shopper's open cart, created on first use (a user's when signed in, else the session's)."""
    owner = _owner_filter(shopper)
    if owner is None:
        raise SessionRequired("No shopper to hold a cart: sign in or send a session id.")
    cart = Cart.objects.filter(**owner).first()
    if cart is not None:
        return cart
    return _cart_created(owner) or Cart.objects.get(**owner)


def _cart_created(owner: dict[str, User | ShopperSession]) -> Cart | None:
    """A new cart for ``owner``; ``None`` when another first request of the same shopper created it
    meanwhile (the owner's cart is unique). Losing that race leaves the caller's transaction usable;
    on PostgreSQL it is one statement (``INSERT ... ON CONFLICT DO NOTHING``), no savepoint."""
    cart = Cart(**owner)
    return cart if inserted_unless_taken(cart) else None


def cart_clear(*, cart: Cart) -> None:
    """Empties the cart: lines, discount code and abandonment reason go (after an order, nothing
    should linger). Inside a caller's transaction (checkout) it adds no savepoint: a failure here
    rolls the caller back whole."""
    with transaction.atomic(savepoint=False):
        cart.lines.all().delete()
        if cart.discount_id is not None:
            cart.discount = None
            Cart.objects.filter(pk=cart.pk).update(discount=None)
        _touch(cart)


# --- why a shopper left ------------------------------------------------------------------------------

# The Agentic Commerce Protocol's intent_trace reason codes (spec 2026-04-17, IntentTrace.reason_code),
# read as our reasons. The enum is extensible: an unknown code is "other".
ACP_REASON_CODES: dict[str, str] = {
    "price_sensitivity": AbandonmentReason.TOO_EXPENSIVE,
    "shipping_cost": AbandonmentReason.SHIPPING_COST,
    "timing_deferred": AbandonmentReason.UNDECIDED,
    "comparison": AbandonmentReason.UNDECIDED,
}
REASON_NOTE_MAX = 500


def abandonment_reason_from_acp(reason_code: str) -> str:
    """Our reason for an ACP ``intent_trace.reason_code`` (unknown codes are "other", as the spec asks)."""
    return ACP_REASON_CODES.get(reason_code, AbandonmentReason.OTHER)


def cart_record_abandonment_reason(*, cart: Cart, reason: str, source: str, note: str = "") -> Cart:
    """Keeps the reason the shopper gave for leaving ``cart`` (the latest one wins).

    It counts as the shopper's last word on the cart, so the cart is touched: the abandonment clock
    starts now, and a recovery job found before the reason was given is re-planned with it.
    """
    if reason not in AbandonmentReason.values:
        raise InvalidInput(
            f"Unknown abandonment reason {reason!r}.",
            details={"reason": reason, "allowed": list(AbandonmentReason.values)},
        )
    with transaction.atomic():
        cart = Cart.objects.select_for_update().get(pk=cart.pk)
        given = {
            "abandonment_reason": reason,
            "abandonment_source": source[:20],
            "abandonment_note": note.strip()[:REASON_NOTE_MAX],
            "abandonment_reason_at": timezone.now(),
        }
        _touch(cart, reason=given)
    return cart


def discount_record_use(*, discount: Discount) -> None:
    """Counts one use of ``discount`` (an order placed with it); refuses past the usage limit.

    A conditional UPDATE, so two orders racing for the last use cannot both get it.
    """
    with transaction.atomic():
        updated = (
            Discount.objects.filter(pk=discount.pk)
            .filter(Q(usage_limit__isnull=True) | Q(times_used__lt=F("usage_limit")))
            .update(times_used=F("times_used") + 1)
        )
        if updated != 1:
            raise DiscountExhausted(
                f"Discount code {discount.code} has been used up.",
                details={"code": discount.code},
            )
        discount.refresh_from_db(fields=["times_used"])


# --- lines -------------------------------------------------------------------------------------------


def _as_pk(value: int | str | None) -> int | None:
    """Identifiers are opaque strings on the wire; anything that is not one of ours names nothing."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None


def _check_quantity(quantity: int, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not low <= quantity <= MAX_LINE:
        raise InvalidQuantity(
            f"Quantity must be a whole number from {low} to {MAX_LINE}.",
            details={"quantity": quantity, "min": low, "max": MAX_LINE},
        )
    return quantity


def _check_stock(variant: Variant, wanted: int, *, in_cart: int) -> None:
    if wanted <= variant.stock:
        return
    label = variant.label
    if variant.stock == 0:
        message = f"{label} is sold out."
    elif in_cart:
        message = f"Only {variant.stock} of {label} left and you already have {in_cart} in your cart."
    else:
        message = f"Only {variant.stock} of {label} left."
    raise InsufficientStock(
        message,
        details={"variantId": str(variant.pk), "available": variant.stock, "inCart": in_cart},
    )


def _line_total_allowed(variant: Variant, *, in_cart: int, adding: int) -> int:
    """The line's new quantity when ``adding`` joins the ``in_cart`` already held, or the refusal:
    past the per-line limit, or past the stock."""
    wanted = in_cart + adding
    if wanted > MAX_LINE:
        raise LineQuantityLimit(
            f"At most {MAX_LINE} of one item per order: you have {in_cart} of {variant.label}, "
            f"so you can add {MAX_LINE - in_cart} more.",
            details={"inCart": in_cart, "max": MAX_LINE},
        )
    _check_stock(variant, wanted, in_cart=in_cart)
    return wanted


def _locked_carts() -> QuerySet[Cart]:
    """Carts with their discount, each row-locked as it is read (see :func:`_locked_cart`)."""
    return Cart.objects.select_for_update(of=("self",)).select_related("discount")


_LOCKED_CART_OF_USER = PreparedRead(
    "carts.locked_of_user", lambda user_pk: _locked_carts().filter(user_id=user_pk).order_by("pk")[:1]
)
_LOCKED_CART_OF_SESSION = PreparedRead(
    "carts.locked_of_session",
    lambda session_pk: _locked_carts().filter(session_id=session_pk).order_by("pk")[:1],
)


_LOCKED_CART_BY_PK = PreparedRead(
    "carts.locked_by_pk", lambda cart_pk: _locked_carts().filter(pk=cart_pk).order_by("pk")[:1]
)


def cart_lock_for_checkout(*, user: User, cart_id: int | None = None) -> Cart | None:
    """The cart a checkout places, row-locked with its discount (one shopper's checkouts of one cart then
    run one after the other): the one ``cart_id`` names, else the user's; None when there is none. Inside
    the caller's transaction; the lines are for the caller to read once the lock is held."""
    if cart_id is not None:
        return _LOCKED_CART_BY_PK.first(cart_id)
    return _LOCKED_CART_OF_USER.first(user.pk)


def _locked_cart_of(owner: dict[str, User | ShopperSession]) -> Cart | None:
    if "user" in owner:
        return _LOCKED_CART_OF_USER.first(owner["user"].pk)
    return _LOCKED_CART_OF_SESSION.first(owner["session"].pk)


def _locked_cart(shopper: Shopper) -> tuple[Cart, bool]:
    """The shopper's cart with its discount, row-locked on PostgreSQL so one cart's writes run one after
    another (the discount's row is not locked: every cart using the code would queue on it), and whether
    it was created just now (then it has no lines and no discount, and no other transaction sees it
    before this one commits: the insert is its lock). One query when the cart exists, which is every
    write but a shopper's first; the first inserts it without reading again."""
    owner = _owner_filter(shopper)
    if owner is None:
        raise SessionRequired("No shopper to hold a cart: sign in or send a session id.")
    cart = _locked_cart_of(owner)
    if cart is not None:
        return cart, False
    created = _cart_created(owner)
    if created is not None:
        return created, True
    return _locked_carts().get(**owner), False  # the other request's cart: waits for its lock


def _owned_line(shopper: Shopper, line_id: int | str) -> tuple[Cart, CartLine, list[CartLine]]:
    """The shopper's (row-locked) cart with its discount, one of its lines and all of them (with their
    variants and products, read under the lock: the cart as the write will leave it, so the caller can
    answer without reading it again); another cart's line id is not found."""
    pk = _as_pk(line_id)
    owner = _owner_filter(shopper)
    cart = line = None
    lines: list[CartLine] = []
    if pk is not None and owner is not None:
        cart = _locked_cart_of(owner)
        if cart is not None:
            lines = cart_lines(cart)
            line = next((x for x in lines if x.pk == pk), None)
    if cart is None or line is None:
        raise CartLineNotFound("No such line in your cart.", details={"itemId": str(line_id)})
    return cart, line, lines


_ACTIVE_VARIANT = PreparedRead(
    "carts.active_variant",
    lambda pk: (
        Variant.objects.select_related("product").filter(pk=pk, product__is_active=True).order_by("pk")[:1]
    ),
)


def cart_add_item(
    *,
    shopper: Shopper,
    variant_id: int | str,
    quantity: int,
    product_id: int | str | None = None,
    variant: Variant | None = None,
) -> Cart:
    """Adds ``quantity`` of a variant; the same variant grows its line (at most 50, never past stock).

    ``product_id``, when given (the API sends both), must be the variant's product. ``variant``: that
    variant as the caller read it a moment ago with its product (the chat's add, which chose it among
    the product's variants), so it is not read again; the same rules hold (an inactive product's is
    refused). The cart comes back with its discount and lines loaded as
    :func:`~carts.selectors.cart_with_lines` would read them.
    """
    _check_quantity(quantity)
    pk = _as_pk(variant_id)
    if variant is None or variant.pk != pk:
        variant = _ACTIVE_VARIANT.first(pk) if pk is not None else None
    elif not variant.product.is_active:
        variant = None
    if variant is None:
        raise VariantNotFound(
            "That product option is not available.",
            details={"variantId": str(variant_id)},
        )
    if product_id is not None and _as_pk(product_id) != variant.product_id:
        raise VariantProductMismatch(
            "The variant does not belong to that product.",
            details={"productId": str(product_id), "variantId": str(variant_id)},
        )
    with transaction.atomic():
        cart, created = _locked_cart(shopper)
        lines = [] if created else cart_lines(cart)  # every line, not just this variant's
        line = next((x for x in lines if x.variant_id == variant.pk), None)
        in_cart = line.quantity if line else 0
        wanted = _line_total_allowed(variant, in_cart=in_cart, adding=quantity)
        if line is None:
            lines.append(CartLine.objects.create(cart=cart, variant=variant, quantity=wanted))
            if not created:  # a cart inserted just now has its time and no abandonment reason already
                _touch(cart)
        else:
            line.quantity = wanted
            _touch(cart, line=line)  # the line's new quantity and the cart's time in one statement
    return cart_with_lines_known(cart, lines=lines)


def cart_set_quantity(*, shopper: Shopper, line_id: int | str, quantity: int) -> Cart:
    """Sets a line's quantity; 0 removes it. Raising it past stock is refused, lowering never is."""
    _check_quantity(quantity, allow_zero=True)
    with transaction.atomic():
        cart, line, lines = _owned_line(shopper, line_id)
        changed = None
        if quantity == 0:
            line.delete()
            lines.remove(line)
        elif quantity != line.quantity:
            if quantity > line.quantity:
                _check_stock(line.variant, quantity, in_cart=0)
            line.quantity = quantity
            changed = line
        _touch(cart, line=changed)  # the new quantity and the cart's time in one statement
    return cart_with_lines_known(cart, lines=lines)


def cart_set_variant_quantity(*, shopper: Shopper, variant_id: int | str, quantity: int) -> Cart:
    """Sets how many of one variant the cart holds (an outside agent's ``update_cart``): the line is
    added when absent and removed at 0, under the same stock and line rules as every other change."""
    _check_quantity(quantity, allow_zero=True)
    cart = cart_get_or_create_for_shopper(shopper=shopper)
    pk = _as_pk(variant_id)
    line = cart.lines.filter(variant_id=pk).first() if pk is not None else None
    if line is not None:
        return cart_set_quantity(shopper=shopper, line_id=line.pk, quantity=quantity)
    if quantity == 0:
        return cart
    return cart_add_item(shopper=shopper, variant_id=variant_id, quantity=quantity)


def _option_not_made(
    product: Product, variants: list[Variant], *, size: str, color: str, known_color: str | None
) -> VariantNotFound:
    """The refusal for an option the product is not made in, naming what it does come in."""
    colors = sorted({v.color for v in variants if v.color})
    sizes = [v.size for v in variants if v.color == known_color and v.size] if known_color else []
    asked = " in ".join(part for part in (f"size {size}" if size else "", color) if part)
    if sizes:
        offer = f" In {known_color} it comes in {', '.join(sizes)}."
    else:
        offer = f" It comes in {', '.join(colors)}." if colors else ""
    return VariantNotFound(
        f"{product.name} does not come in {asked}.{offer}",
        details={"productId": str(product.pk), "sizes": sizes, "colors": colors},
    )


def cart_change_option(
    *,
    shopper: Shopper,
    line_id: int | str,
    size: str | None = None,
    color: str | None = None,
    variant_id: int | str | None = None,
) -> tuple[Cart, CartLine]:
    """Moves a line to another size and/or colour of the same product, keeping its quantity.

    The option is named by words (the chat: ``size`` and/or ``color``, the one not named stays as it
    was) or by ``variant_id`` (the cart page's menu), which must be a variant of the line's product.
    If the cart already holds the new option, the two lines become one (within the per-line limit and
    the stock). Returns the cart and the line now holding the items; an option the product is not
    made in, or without the stock, changes nothing.
    """
    if not (size or color or variant_id):
        raise OptionRequired("Choose the size or colour to change to.")
    with transaction.atomic():
        cart, line, _ = _owned_line(shopper, line_id)
        current = line.variant
        product = current.product
        if not product.is_active:
            raise VariantNotFound(
                f"{product.name} is no longer sold.",
                details={"productId": str(product.pk)},
            )
        variants = list(Variant.objects.filter(product=product).order_by("pk"))
        if variant_id:
            chosen = _as_pk(variant_id)
            target = next((v for v in variants if v.pk == chosen), None)
            if target is None:
                raise VariantNotFound(
                    f"That option is not one of {product.name}'s.",
                    details={"variantId": str(variant_id), "productId": str(product.pk)},
                )
        else:
            new_size = matching_option((v.size for v in variants), size) if size else current.size
            new_color = matching_option((v.color for v in variants), color) if color else current.color
            target = next((v for v in variants if v.size == new_size and v.color == new_color), None)
            if target is None:
                raise _option_not_made(
                    product,
                    variants,
                    size=size or current.size,
                    color=color or current.color,
                    known_color=new_color,
                )
        if target.pk == current.pk:
            return cart, line
        target.product = product
        other = cart.lines.filter(variant=target).first()
        in_cart = other.quantity if other else 0
        wanted = _line_total_allowed(target, in_cart=in_cart, adding=line.quantity)
        if other is None:
            line.variant = target
            line.save(update_fields=["variant"])
        else:
            line.delete()
            line = other
            line.variant = target  # the row's own variant: saves the caller a query
            line.quantity = wanted
            line.save(update_fields=["quantity"])
        _touch(cart)
    return cart, line


def cart_remove_line(*, shopper: Shopper, line_id: int | str) -> Cart:
    with transaction.atomic():
        cart, line, lines = _owned_line(shopper, line_id)
        line.delete()
        lines.remove(line)
        _touch(cart)
    return cart_with_lines_known(cart, lines=lines)


# --- discounts -----------------------------------------------------------------------------------------


def _usable_discount(code: str, *, subtotal: Decimal) -> Discount:
    """The discount named ``code`` if it applies to a cart of ``subtotal`` now, else why not."""
    code = (code or "").strip()
    if not code:
        raise DiscountCodeRequired("Enter a discount code.")
    discount = Discount.objects.filter(code__iexact=code).first()
    if discount is None or not discount.is_active:
        raise DiscountInvalid(
            f"{code.upper()} is not a valid discount code.",
            details={"code": code.upper()},
        )
    now = timezone.now()
    details = {"code": discount.code}
    if discount.starts_at > now:
        raise DiscountNotStarted(f"Code {discount.code} is not valid yet.", details=details)
    if discount.ends_at is not None and now >= discount.ends_at:
        raise DiscountExpired(f"Code {discount.code} has expired.", details=details)
    if discount.usage_limit is not None and discount.times_used >= discount.usage_limit:
        raise DiscountExhausted(f"Code {discount.code} has been used up.", details=details)
    if subtotal < discount.min_subtotal:
        raise DiscountMinSubtotal(
            f"Code {discount.code} needs a subtotal of at least {money_str(discount.min_subtotal)}; "
            f"yours is {money_str(subtotal)}.",
            details={
                **details,
                "minSubtotal": money_str(discount.min_subtotal),
                "subtotal": money_str(subtotal),
            },
        )
    return discount


OFFER_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def discount_create_single_use(*, prefix: str, kind: str, value: Decimal, valid_for: timedelta) -> Discount:
    """A fresh code good for one order within ``valid_for`` (a recovery offer said on a call)."""
    for _ in range(5):
        code = prefix + "".join(secrets.choice(OFFER_CODE_ALPHABET) for _ in range(6))
        try:
            with transaction.atomic():
                return Discount.objects.create(
                    code=code,
                    kind=kind,
                    value=value,
                    usage_limit=1,
                    ends_at=timezone.now() + valid_for,
                )
        except IntegrityError:
            continue  # 31^6 codes: a clash is rare; draw again
    raise IntegrityError("Could not draw a free discount code.")


def cart_apply_discount(*, shopper: Shopper, code: str) -> Cart:
    """Puts a discount code on the cart (replacing any other); the code is matched case-insensitively."""
    with transaction.atomic():
        cart, _ = _locked_cart(shopper)
        subtotal = cart_totals(cart_with_lines().get(pk=cart.pk)).subtotal
        discount = _usable_discount(code, subtotal=subtotal)
        cart.discount = discount
        Cart.objects.filter(pk=cart.pk).update(discount=discount)
        _touch(cart)
    return cart


def cart_remove_discount(*, shopper: Shopper) -> Cart:
    with transaction.atomic():
        cart, _ = _locked_cart(shopper)
        cart.discount = None
        Cart.objects.filter(pk=cart.pk).update(discount=None)
        _touch(cart)
    return cart


# --- guest to account ----------------------------------------------------------------------------------


def cart_merge_guest_into_user(*, user: User, guest_session: ShopperSession | None) -> Cart | None:
    """Merges a guest's cart into the account cart (CONTRACT.md section 5), line by line.

    Lines match on variant and their quantities add, capped at 50 per line (stock is checked at
    checkout, not here: the shopper must not lose what they chose); the guest's discount carries
    over only when the account cart has none; the guest cart is then deleted. Returns the account
    cart, or None when the guest had no cart.
    """
    if guest_session is None:
        return None
    with transaction.atomic():
        guest = Cart.objects.select_for_update().filter(session=guest_session, user__isnull=True).first()
        if guest is None:
            return None
        account = cart_get_or_create_for_shopper(shopper=Shopper(user=user, session=None))
        account = Cart.objects.select_for_update().get(pk=account.pk)
        account_lines = {line.variant_id: line for line in account.lines.select_for_update()}
        for guest_line in guest.lines.all():
            mine = account_lines.get(guest_line.variant_id)
            if mine is None:
                # Moving the row keeps its id and added_at; the guest cart no longer holds it.
                guest_line.cart = account
                guest_line.save(update_fields=["cart"])
            else:
                mine.quantity = min(mine.quantity + guest_line.quantity, MAX_LINE)
                mine.save(update_fields=["quantity"])
        if account.discount_id is None and guest.discount_id is not None:
            account.discount_id = guest.discount_id
            Cart.objects.filter(pk=account.pk).update(discount_id=guest.discount_id)
        guest.delete()
        _touch(account)
    return account
