"""Checkout and order pages. Every rule is in orders.services; these views only translate."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from carts.selectors import cart_for_shopper, cart_totals
from commerce.accounts.shoppers import Shopper
from commerce.errors import DomainError
from orders.forms import AddressForm, CheckoutForm
from orders.selectors import last_shipping_address, order_get_for_user, orders_for_user
from orders.services import order_cancel, order_change_address, order_place, order_refund, request_fingerprint


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    cart = cart_for_shopper(Shopper(user=request.user, session=None))
    totals = cart_totals(cart)
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            address = {f: data[f] for f in CheckoutForm.ADDRESS_FIELDS}
            payment = {"type": "card", "token": data["token"]}
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
                return redirect("orders:confirmation", order_id=order.number)
    else:
        initial = {"idempotency_key": uuid.uuid4().hex, "name": request.user.name}
        initial.update(last_shipping_address(request.user) or {})
        form = CheckoutForm(initial=initial)
    return render(request, "orders/checkout.html", {"form": form, "totals": totals})


@login_required
def confirmation(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _own_order_or_404(request, order_id)
    return render(request, "orders/confirmation.html", {"order": order})


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/list.html", {"orders": orders_for_user(request.user)[:100]})


@login_required
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _own_order_or_404(request, order_id)
    address_form = AddressForm(initial=order.shipping_address)
    return render(
        request,
        "orders/detail.html",
        {"order": order, "address_form": address_form, "events": order.events.select_related("actor")},
    )


def _own_order_or_404(request: HttpRequest, order_id: str):
    from django.http import Http404

    try:
        return order_get_for_user(user=request.user, order_id=order_id)
    except DomainError as exc:
        raise Http404(exc.message) from None


@login_required
@require_POST
def cancel(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _own_order_or_404(request, order_id)
    try:
        order_cancel(order=order, actor=request.user, reason=request.POST.get("reason", "")[:500])
        messages.success(request, f"Order {order.number} is cancelled; the payment is refunded.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("orders:detail", order_id=order.number)


@login_required
@require_POST
def change_address(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _own_order_or_404(request, order_id)
    form = AddressForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please fill in the address: " + ", ".join(form.errors))
    else:
        try:
            order_change_address(order=order, actor=request.user, address=form.cleaned_data)
            messages.success(request, "The shipping address is updated.")
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("orders:detail", order_id=order.number)


@login_required
@require_POST
def refund(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _own_order_or_404(request, order_id)
    items = []
    for line in order.lines.all():
        raw = request.POST.get(f"qty_{line.pk}", "").strip()
        if raw.isdigit() and int(raw) > 0:
            items.append({"itemId": str(line.pk), "quantity": int(raw)})
    try:
        if not items:
            raise DomainError("Choose how many of which items to return.", code="nothing_selected")
        order_refund(
            order=order, actor=request.user, reason=request.POST.get("reason", "")[:500], items=items
        )
        messages.success(request, "Your refund is on its way.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("orders:detail", order_id=order.number)
