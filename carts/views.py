"""Cart pages: ``/cart/`` with HTMX quantity updates, removal and discount code; ``/cart/add/``.

Every cart-changing HTMX answer carries the header badge out-of-band (``templates/carts/badge.html``
has ``hx-swap-oob``), so the count in the header never lags behind the cart. Refusals (sold out, too
many, a bad code) are shown to the shopper in the fragment or as a message, never as an error page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from carts.models import Cart
from carts.selectors import cart_for_shopper, cart_item_count, cart_line_options, cart_totals
from carts.services import (
    cart_add_item,
    cart_apply_discount,
    cart_change_option,
    cart_remove_discount,
    cart_remove_line,
    cart_set_quantity,
)
from commerce.accounts.shoppers import Shopper, ShopperRequest, shopper_from_page
from commerce.errors import DomainError, InvalidInput

DETAIL = "carts/detail.html"


def _page_shopper(request: ShopperRequest, *, create: bool) -> Shopper:
    shopper = shopper_from_page(request, create=create)
    # The context processors read request.shopper; a session created just now must be the one they see.
    request.shopper = shopper
    return shopper


def _cart_context(shopper: Shopper, **extra) -> dict:
    cart = cart_for_shopper(shopper)
    totals = cart_totals(cart)
    options = cart_line_options(cart)
    for line_total in totals.lines:  # the page's size/colour menu per line
        line_total.line.options = options.get(line_total.line.pk, [])
    return {
        "cart": cart,
        "totals": totals,
        "shopper": shopper,
        "cart_item_count": totals.item_count,
        **extra,
    }


def _with_badge(request: ShopperRequest, html: str, context: dict) -> HttpResponse:
    return HttpResponse(html + render_to_string("carts/badge.html", context, request))


@require_GET
def cart_detail(request: ShopperRequest) -> HttpResponse:
    context = _cart_context(_page_shopper(request, create=False))
    template = f"{DETAIL}#cart" if request.htmx else DETAIL
    return render(request, template, context)


def _cart_change(
    request: ShopperRequest, change: Callable[[Shopper], Cart], *, done: str, error_key: str = "error"
) -> HttpResponse:
    """Runs one cart change and answers with the cart fragment (HTMX) or a redirect with a message."""
    shopper = _page_shopper(request, create=True)
    extra: dict = {}
    try:
        change(shopper)
    except DomainError as exc:
        extra[error_key] = exc.message
        if not request.htmx:
            messages.error(request, exc.message)
    else:
        extra["notice"] = done
        if not request.htmx:
            messages.success(request, done)
    if not request.htmx:
        return redirect("carts:detail")
    context = _cart_context(shopper, **extra)
    return _with_badge(request, render_to_string(f"{DETAIL}#cart", context, request), context)


def _quantity(raw: str | None, *, default: int | None = None) -> int:
    if raw in (None, "") and default is not None:
        return default
    try:
        return int(str(raw).strip())
    except ValueError:
        raise InvalidInput("Quantity must be a whole number.", code="invalid_quantity") from None


@require_POST
def cart_update(request: ShopperRequest, line_id: int) -> HttpResponse:
    def change(shopper: Shopper) -> Cart:
        return cart_set_quantity(
            shopper=shopper, line_id=line_id, quantity=_quantity(request.POST.get("quantity"))
        )

    return _cart_change(request, change, done="Quantity updated.")


@require_POST
def cart_change_line_option(request: ShopperRequest, line_id: int) -> HttpResponse:
    """The line's size/colour menu: the chosen variant of the same product, quantity kept."""

    def change(shopper: Shopper) -> Cart:
        cart, _ = cart_change_option(shopper=shopper, line_id=line_id, variant_id=request.POST.get("variant"))
        return cart

    return _cart_change(request, change, done="Size and colour changed.")


@require_POST
def cart_remove(request: ShopperRequest, line_id: int) -> HttpResponse:
    return _cart_change(
        request, lambda shopper: cart_remove_line(shopper=shopper, line_id=line_id), done="Removed."
    )


@require_POST
def cart_discount_apply(request: ShopperRequest) -> HttpResponse:
    code = request.POST.get("code", "")
    return _cart_change(
        request,
        lambda shopper: cart_apply_discount(shopper=shopper, code=code),
        done=f"Code {code.strip().upper()} applied.",
        error_key="discount_error",
    )


@require_POST
def cart_discount_remove(request: ShopperRequest) -> HttpResponse:
    return _cart_change(
        request, lambda shopper: cart_remove_discount(shopper=shopper), done="Discount code removed."
    )


@require_POST
def cart_add(request: ShopperRequest) -> HttpResponse:
    """The product page's "Add to cart" (POST variant_id, quantity)."""
    shopper = _page_shopper(request, create=True)
    variant_id = request.POST.get("variant_id", "").strip()
    ok, message = False, ""
    try:
        if not variant_id:
            raise InvalidInput("Choose a size and colour first.", code="variant_required")
        quantity = _quantity(request.POST.get("quantity"), default=1)
        cart_add_item(shopper=shopper, variant_id=variant_id, quantity=quantity)
    except DomainError as exc:
        message = exc.message
    else:
        ok = True
        message = f"Added {quantity} to your cart."
    if not request.htmx:
        (messages.success if ok else messages.error)(request, message)
        return redirect("carts:detail")
    context = {
        "ok": ok,
        "message": message,
        "shopper": shopper,
        "cart_item_count": cart_item_count(shopper),
    }
    return _with_badge(request, render_to_string("carts/add_feedback.html", context, request), context)


@require_GET
def cart_badge(request: ShopperRequest) -> HttpResponse:
    """The header badge alone: the chat panel asks for it after the assistant changed the cart."""
    return render(
        request,
        "carts/badge.html",
        {"cart_item_count": cart_item_count(shopper_from_page(request)), "badge_inline": True},
    )
