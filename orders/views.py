"""Checkout and order pages. Every rule is in orders.services; these views only translate."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from carts.selectors import cart_for_shopper, cart_totals
from commerce.accounts.shoppers import Shopper, SignedInRequest
from commerce.errors import DomainError
from orders.forms import AddressForm, CheckoutForm
from orders.models import Order
from orders.selectors import last_shipping_address, order_get_for_user, orders_for_user
from orders.services import order_cancel, order_change_address, order_place, order_refund, request_fingerprint


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: SignedInRequest) -> HttpResponse:
    cart = cart_for_shopper(Shopper(user=request.user, session=None))
    totals = cart_totals(cart)
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            address = {f: data[f] for f in CheckoutForm.ADDRESS_FIELDS}
            payment = {"type": "card", "token": data["payment_token"]}
            try:
                order, _created = order_place(
                    user=request.user,
                    shipping_address=address,
                    payment_method=payment,
                    idempotency_key=f"page:{data['idempotency_key']}",
                    request_hash=request_fingerprint({"shippingAddress": address, "paymentMethod": payment}),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                url = reverse("orders:confirmation", kwargs={"order_id": order.number})
                if request.htmx:
                    # A fragment swap cannot change the page: HTMX follows this header instead.
                    return HttpResponse(status=204, headers={"HX-Redirect": url})
                return redirect(url)
    else:
        initial = {"idempotency_key": uuid.uuid4().hex, "name": request.user.name}
        initial.update(last_shipping_address(request.user) or {})
        form = CheckoutForm(initial=initial)
    template = "orders/checkout.html#checkout-form" if request.htmx else "orders/checkout.html"
    return render(request, template, {"form": form, "totals": totals})


@login_required
def confirmation(request: SignedInRequest, order_id: str) -> HttpResponse:
    order = _own_order_or_404(request, order_id)
    return render(request, "orders/confirmation.html", {"order": order})


@login_required
def order_list(request: SignedInRequest) -> HttpResponse:
    return render(request, "orders/list.html", {"orders": orders_for_user(request.user)[:100]})


DETAIL = "orders/detail.html"


def _detail_context(order: Order, **extra) -> dict:
    return {
        "order": order,
        "address_form": extra.pop("address_form", None) or AddressForm(initial=order.shipping_address),
        "events": order.events.select_related("actor"),
        "payment": getattr(order, "payment", None),
        **extra,
    }


@login_required
def order_detail(request: SignedInRequest, order_id: str) -> HttpResponse:
    order = _own_order_or_404(request, order_id)
    template = f"{DETAIL}#order" if request.htmx else DETAIL
    return render(request, template, _detail_context(order))


def _own_order_or_404(request: SignedInRequest, order_id: str) -> Order:
    try:
        return order_get_for_user(user=request.user, order_id=order_id)
    except DomainError as exc:
        raise Http404(exc.message) from None


def _after_action(
    request: SignedInRequest, order: Order, *, done: str | None = None, error: str | None = None, **extra
) -> HttpResponse:
    """The order fragment with a notice (HTMX), or a message and a redirect to the order page."""
    if request.htmx:
        fresh = order_get_for_user(user=request.user, order_id=order.number)
        return render(request, f"{DETAIL}#order", _detail_context(fresh, notice=done, error=error, **extra))
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect("orders:detail", order_id=order.number)


@login_required
@require_POST
def cancel(request: SignedInRequest, order_id: str) -> HttpResponse:
    order = _own_order_or_404(request, order_id)
    try:
        order_cancel(order=order, actor=request.user, reason=request.POST.get("reason", "")[:500])
    except DomainError as exc:
        return _after_action(request, order, error=exc.message)
    return _after_action(request, order, done=f"Order {order.number} is cancelled; the payment is refunded.")


@login_required
@require_POST
def change_address(request: SignedInRequest, order_id: str) -> HttpResponse:
    order = _own_order_or_404(request, order_id)
    form = AddressForm(request.POST)
    if not form.is_valid():
        labels = ", ".join(str(form.fields[name].label or name) for name in form.errors)
        return _after_action(
            request, order, error=f"Please check the address: {labels}.", address_form=form, address_open=True
        )
    try:
        order_change_address(order=order, actor=request.user, address=form.cleaned_data)
    except DomainError as exc:
        return _after_action(request, order, error=exc.message)
    return _after_action(request, order, done="The shipping address is updated.")


@login_required
@require_POST
def refund(request: SignedInRequest, order_id: str) -> HttpResponse:
    order = _own_order_or_404(request, order_id)
    items = []
    for line in order.lines.all():
        raw = request.POST.get(f"qty_{line.pk}", "").strip()
        if raw.isdigit() and int(raw) > 0:
            items.append({"itemId": str(line.pk), "quantity": int(raw)})
    if not items:
        return _after_action(request, order, error="Choose how many of which items to return.")
    try:
        order = order_refund(
            order=order, actor=request.user, reason=request.POST.get("reason", "")[:500], items=items
        )
    except DomainError as exc:
        return _after_action(request, order, error=exc.message)
    latest = order.refunds.order_by("-created_at", "-id").first()  # the one order_refund just made
    amount = f" of {order.currency} {latest.amount}" if latest is not None else ""
    return _after_action(request, order, done=f"Refund{amount} is on its way.")
