"""Reads for ACP: a checkout session as the protocol shows it (``CheckoutSession``, spec 2026-04-17).

Every amount comes from :func:`carts.selectors.cart_totals` (the one place cart money is computed) and is
written in minor units, as the protocol wants; nothing is priced here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse

from carts.models import Cart
from carts.selectors import CartTotals, cart_totals, cart_with_lines
from orders.acp.models import AcpCheckoutSession
from orders.models import Order

PROTOCOL_VERSION = "2026-04-17"
SUPPORTED_VERSIONS = (PROTOCOL_VERSION,)
SHIPPING_OPTION_ID = "standard_shipping"
PAYMENT_HANDLER_ID = "card_tokenized"
# Order statuses as the protocol's Order.status names them.
ORDER_STATUS: dict[str, str] = {
    Order.Status.PENDING: "created",
    Order.Status.PAID: "confirmed",
    Order.Status.SHIPPED: "shipped",
    Order.Status.DELIVERED: "completed",
    Order.Status.CANCELLED: "canceled",
    Order.Status.REFUNDED: "completed",
    Order.Status.PARTIALLY_REFUNDED: "completed",
}


def minor_units(amount: Decimal) -> int:
    """Cents (for a two-decimal currency) as the protocol's integer amounts."""
    return int((amount * 100).to_integral_value())


def _total(kind: str, text: str, amount: Decimal) -> dict[str, Any]:
    return {"type": kind, "display_text": text, "amount": minor_units(amount)}


def error_message(code: str, content: str, *, param: str, resolution: str) -> dict[str, Any]:
    return {
        "type": "error",
        "code": code,
        "param": param,
        "resolution": resolution,
        "content_type": "plain",
        "content": content,
    }


def blocks_payment(message: dict[str, Any]) -> bool:
    """Errors the buyer must fix before paying; a declined payment leaves the session ready to pay again
    (as in the spec's ``checkout_session_with_payment_declined`` example)."""
    return bool(message["type"] == "error" and message["code"] != "payment_declined")


def payment_handler() -> dict[str, Any]:
    """The one way to pay: a delegated card token, charged through our payment port (PAYMENT_GATEWAY)."""
    gateway = getattr(settings, "PAYMENT_GATEWAY", "test") or "test"
    return {
        "id": PAYMENT_HANDLER_ID,
        "name": "dev.acp.tokenized.card",
        "display_name": "Card",
        "version": "2026-01-22",
        "spec": "https://acp.dev/handlers/tokenized.card",
        "requires_delegate_payment": True,
        "requires_pci_compliance": False,
        "psp": gateway,
        "config_schema": "https://acp.dev/schemas/handlers/tokenized.card/config.json",
        "instrument_schemas": ["https://acp.dev/schemas/handlers/tokenized.card/instrument.json"],
        "config": {"gateway": gateway},
    }


def session_cart(session: AcpCheckoutSession) -> Cart | None:
    return cart_with_lines().filter(session_id=session.shopper_session_id).first()


def _line_items(totals: CartTotals) -> list[dict[str, Any]]:
    items = []
    for lt in totals.lines:
        variant = lt.line.variant
        items.append(
            {
                "id": f"li_{lt.line.pk}",
                "item": {"id": str(variant.pk)},
                "quantity": lt.line.quantity,
                "name": variant.product.name,
                "unit_amount": minor_units(lt.unit_price),
                "product_id": str(variant.product_id),
                "variant_id": str(variant.pk),
                "sku": variant.sku,
                "availability_status": "in_stock" if variant.stock >= lt.line.quantity else "out_of_stock",
                "available_quantity": max(variant.stock, 0),
                "totals": [
                    _total("items_base_amount", "Base amount", lt.line_total),
                    _total("subtotal", "Subtotal", lt.line_total),
                ],
            }
        )
    return items


def _totals(totals: CartTotals) -> list[dict[str, Any]]:
    rows = [_total("items_base_amount", "Items", totals.subtotal)]
    if totals.discount > 0:
        rows.append(_total("discount", f"Discount {totals.discount_code or ''}".strip(), totals.discount))
    rows += [
        _total("subtotal", "Subtotal", totals.subtotal - totals.discount),
        _total("fulfillment", "Shipping", totals.shipping),
        _total("tax", "Tax", totals.tax),
        _total("total", "Total", totals.total),
    ]
    return rows


def _open_messages(session: AcpCheckoutSession, totals: CartTotals) -> list[dict[str, Any]]:
    messages = list(session.messages)
    if not totals.lines:
        messages.append(
            error_message(
                "missing", "The checkout holds no items.", param="$.line_items", resolution="recoverable"
            )
        )
    for index, lt in enumerate(totals.lines):
        variant = lt.line.variant
        if variant.stock < lt.line.quantity or not variant.product.is_active:
            messages.append(
                error_message(
                    "out_of_stock",
                    f"Only {max(variant.stock, 0)} of {variant.label} left.",
                    param=f"$.line_items[{index}]",
                    resolution="requires_buyer_input",
                )
            )
    if not (session.fulfillment_details or {}).get("address"):
        messages.append(
            error_message(
                "missing",
                "Add a shipping address.",
                param="$.fulfillment_details.address",
                resolution="requires_buyer_input",
            )
        )
    return messages


def permalink_url(order: Order) -> str:
    return settings.ACP_STORE_URL + reverse("orders:detail", kwargs={"order_id": order.number})


def order_render(session: AcpCheckoutSession, order: Order) -> dict[str, Any]:
    return {
        "id": order.number,
        "checkout_session_id": session.public_id,
        "order_number": order.number,
        "permalink_url": permalink_url(order),
        "status": ORDER_STATUS.get(order.status, order.status),
        "totals": [
            _total("subtotal", "Subtotal", order.subtotal - order.discount),
            _total("fulfillment", "Shipping", order.shipping),
            _total("tax", "Tax", order.tax),
            _total("total", "Total", order.total),
        ],
    }


def session_render(session: AcpCheckoutSession, *, cart: Cart | None = None) -> dict[str, Any]:
    """The session as the protocol's ``CheckoutSession`` (``CheckoutSessionWithOrder`` once completed)."""
    if not session.is_open() and session.snapshot:
        closed = dict(session.snapshot)
        closed["status"] = session.state
        closed["updated_at"] = session.updated_at.isoformat()
        if session.order is not None:
            closed["order"] = order_render(session, session.order)
        return closed
    cart = cart if cart is not None else session_cart(session)
    totals = cart_totals(cart)
    lines = _line_items(totals)
    messages = _open_messages(session, totals)
    ready = not any(blocks_payment(m) for m in messages)
    body: dict[str, Any] = {
        "id": session.public_id,
        "protocol": {"version": PROTOCOL_VERSION},
        "capabilities": {"payment": {"handlers": [payment_handler()]}},
        "status": "expired"
        if session.is_expired()
        else "ready_for_payment"
        if ready
        else "not_ready_for_payment",
        "currency": session.currency.lower(),
        "line_items": lines,
        "fulfillment_options": [
            {
                "type": "shipping",
                "id": SHIPPING_OPTION_ID,
                "title": "Standard shipping",
                "totals": [_total("total", "Shipping", totals.shipping)],
            }
        ],
        "selected_fulfillment_options": [
            {"type": "shipping", "option_id": SHIPPING_OPTION_ID, "item_ids": [li["id"] for li in lines]}
        ]
        if lines
        else [],
        "totals": _totals(totals),
        "messages": messages,
        "links": [],
        "created_at": session.created_at.isoformat(),
        "updated_at": session.updated_at.isoformat(),
        "expires_at": session.expires_at.isoformat(),
    }
    if session.buyer:
        body["buyer"] = session.buyer
    if session.fulfillment_details:
        body["fulfillment_details"] = session.fulfillment_details
    return body


def session_get(public_id: str) -> AcpCheckoutSession | None:
    return AcpCheckoutSession.objects.select_related("order").filter(public_id=public_id).first()
