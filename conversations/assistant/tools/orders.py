"""Checkout and order tools: signed-in shoppers only, and always the session's own orders.

Placing, cancelling, refunding and re-addressing are irreversible: ``confirm=True``, so each waits for
the shopper's own "yes" in a later message; the question is built by the tool's ``prepare`` step from the
store's own numbers (totals from ``cart_totals``, never from the message or a model).
"""

from __future__ import annotations

import uuid
from typing import Any

from carts.selectors import cart_for_shopper, cart_totals
from commerce.accounts.models import User
from commerce.errors import DomainError
from commerce.money import money_str
from conversations.assistant.reply import FAILED, SKIPPED, SUCCEEDED, Link
from conversations.assistant.tools.registry import (
    Preview,
    ToolContext,
    ToolResult,
    Unresolved,
    items,
    object_schema,
    preview_for,
    sign_in_link,
    tool,
)
from orders.models import Order
from orders.selectors import (
    last_payment_method,
    last_shipping_address,
    order_get_for_user,
    order_latest_for_user,
    orders_for_user,
)
from orders.services import order_cancel, order_change_address, order_place, order_refund

ORDER_ID = {"order_id": {"type": "string", "maxLength": 32, "description": "the order number, e.g. 4F7K2Q"}}


def _order_line(order: Order) -> str:
    text = f"Order {order.number} is {order.get_status_display().lower()} (total ${money_str(order.total)})"
    if order.tracking_number:
        text += f", tracking number {order.tracking_number}"
    return text + "."


def signed_in(ctx: ToolContext, what: str, next_url: str) -> User:
    """The signed-in shopper; a guest is told to sign in first."""
    user = ctx.shopper.user
    if user is None:
        raise Unresolved(
            ToolResult(
                SKIPPED,
                f"{what} needs a signed-in account.",
                text=f"{what} needs you to be signed in. Sign in and ask me again; "
                "your cart stays with you when you do.",
                links=[sign_in_link(next_url)],
            )
        )
    return user


def _resolve_order(ctx: ToolContext, what: str, order_id: str | None = None) -> Order:
    """The order named by number, else the one last discussed, else the latest: the shopper's own only."""
    user = signed_in(ctx, what, "/orders/")
    number = order_id or ctx.state.last_order_number
    order = order_get_for_user(user=user, order_id=number) if number else order_latest_for_user(user)
    if order is None:
        raise Unresolved(ToolResult(FAILED, "You have no orders yet.", links=[Link("Shop", "/products/")]))
    ctx.state.last_order_number = order.number
    return order


@tool(
    "place_order",
    "Check out: place the cart as an order with the shopper's last shipping address and payment method. "
    "The store first tells the shopper the total and waits for their own yes; nothing is placed before.",
    object_schema(
        {
            "idempotency_key": {
                "type": "string",
                "maxLength": 64,
                "description": "leave out: the store sets it",
            }
        }
    ),
    intent="checkout",
    confirm=True,
)
def place_order(ctx: ToolContext, idempotency_key: str | None = None) -> ToolResult:
    user = signed_in(ctx, "Checking out", "/checkout/")
    address, payment = last_shipping_address(user), last_payment_method(user)
    if address is None or payment is None:
        return _no_details_on_file()
    order, _created = order_place(
        user=user,
        shipping_address=address,
        payment_method=payment,
        idempotency_key=idempotency_key or uuid.uuid4().hex,
    )
    ctx.state.last_order_number = order.number
    ctx.state.last_cart_line_id = None
    return ToolResult(
        SUCCEEDED,
        f"Placed order {order.number} for ${money_str(order.total)}.",
        text=f"Done: order {order.number} is placed, total ${money_str(order.total)}. "
        f"It ships to {address.get('line1', '')}, {address.get('city', '')}.",
        cart=cart_for_shopper(ctx.shopper),
        links=[Link("See your order", f"/orders/{order.number}/")],
        suggestions=["Where is my order?"],
    )


def _no_details_on_file() -> ToolResult:
    return ToolResult(
        SKIPPED,
        "No shipping address and payment method on file.",
        text="I don't have a shipping address and payment method on file for you yet, so please "
        "check out on the checkout page this time: /checkout/",
        links=[Link("Go to checkout", "/checkout/")],
    )


@preview_for("place_order")
def _preview_place_order(ctx: ToolContext, idempotency_key: str | None = None) -> Preview | ToolResult:
    user = signed_in(ctx, "Checking out", "/checkout/")
    cart = cart_for_shopper(ctx.shopper)
    totals = cart_totals(cart)
    if cart is None or not totals.lines:
        return ToolResult(
            SKIPPED, "The cart is empty.", text="Your cart is empty, so there is nothing to check out."
        )
    address, payment = last_shipping_address(user), last_payment_method(user)
    if address is None or payment is None:
        return _no_details_on_file()
    # a fresh key per question: one "yes" makes one order, even if it reaches us twice
    return Preview(
        {"idempotency_key": uuid.uuid4().hex},
        f"Your total is ${money_str(totals.total)} ({items(sum(lt.line.quantity for lt in totals.lines))}), "
        f"shipping to {address.get('line1', '')}, {address.get('city', '')}, paid with your saved "
        f"{payment.get('type', 'card')}. Shall I place the order? (yes / no)",
    )


@tool(
    "order_status",
    "The status of one of the shopper's own orders: the one named by number, else the one last discussed, "
    "else the latest.",
    object_schema(ORDER_ID),
)
def order_status(ctx: ToolContext, order_id: str | None = None) -> ToolResult:
    order = _resolve_order(ctx, "Looking up orders", order_id)
    return ToolResult(SUCCEEDED, f"Order {order.number} is {order.status}.", text=_order_line(order))


@tool(
    "orders_status",
    "The status of several of the shopper's own orders (the ones named, else the five latest).",
    object_schema(
        {"order_ids": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 32}}}
    ),
    intent="multi_status",
)
def orders_status(ctx: ToolContext, order_ids: list[str] | None = None) -> ToolResult:
    user = signed_in(ctx, "Looking up orders", "/orders/")
    if not order_ids:
        orders = list(orders_for_user(user)[:5])
        if not orders:
            return ToolResult(SUCCEEDED, "No orders.", text="You have no orders yet.")
        return ToolResult(
            SUCCEEDED, f"Listed {len(orders)} orders.", text="\n".join(_order_line(o) for o in orders)
        )
    rows = []
    for number in order_ids:
        try:
            rows.append(_order_line(order_get_for_user(user=user, order_id=number)))
        except DomainError as exc:
            rows.append(exc.message)
    return ToolResult(SUCCEEDED, f"Looked up {len(order_ids)} orders.", text="\n".join(rows))


@tool(
    "cancel_order",
    "Cancel one of the shopper's own orders before it ships (stock returned, payment refunded). Waits "
    "for the shopper's own yes.",
    object_schema(ORDER_ID),
    confirm=True,
)
def cancel_order(ctx: ToolContext, order_id: str | None = None) -> ToolResult:
    order = _resolve_order(ctx, "Cancelling an order", order_id)
    order = order_cancel(order=order, actor=ctx.shopper.user, reason="Cancelled by the shopper in chat")
    return ToolResult(
        SUCCEEDED,
        f"Cancelled order {order.number}.",
        text=f"Order {order.number} is cancelled; the payment is refunded.",
    )


@preview_for("cancel_order")
def _preview_cancel(ctx: ToolContext, order_id: str | None = None) -> Preview | ToolResult:
    order = _resolve_order(ctx, "Cancelling an order", order_id)
    if not order.can_cancel():
        return ToolResult(FAILED, f"Order {order.number} is {order.status} and can no longer be cancelled.")
    return Preview(
        {"order_id": order.number},
        f"Cancel order {order.number} (${money_str(order.total)})? (yes / no)",
    )


@tool(
    "request_refund",
    "Refund one of the shopper's own delivered orders within the return window. Waits for the "
    "shopper's own yes.",
    object_schema(ORDER_ID),
    confirm=True,
)
def request_refund(ctx: ToolContext, order_id: str | None = None) -> ToolResult:
    order = _resolve_order(ctx, "Refunds", order_id)
    order = order_refund(order=order, actor=ctx.shopper.user, reason="Requested by the shopper in chat")
    return ToolResult(SUCCEEDED, f"Refunded order {order.number}.", text=f"Order {order.number} is refunded.")


@preview_for("request_refund")
def _preview_refund(ctx: ToolContext, order_id: str | None = None) -> Preview | ToolResult:
    order = _resolve_order(ctx, "Refunds", order_id)
    if not order.can_refund():
        return ToolResult(
            FAILED,
            f"Order {order.number} is {order.status} and cannot be refunded "
            "(refunds are for delivered orders within the return window).",
        )
    return Preview({"order_id": order.number}, f"Refund order {order.number} in full? (yes / no)")


@tool(
    "change_order_address",
    "Change the shipping address of one of the shopper's own orders before it ships. Waits for the "
    "shopper's own yes.",
    object_schema(
        {
            **ORDER_ID,
            "address": {
                "type": "object",
                "properties": {
                    k: {"type": "string", "maxLength": 200}
                    for k in ("line1", "line2", "city", "state", "postalCode", "country")
                },
                "additionalProperties": False,
            },
        },
        ("address",),
    ),
    confirm=True,
)
def change_order_address(
    ctx: ToolContext, address: dict[str, Any], order_id: str | None = None
) -> ToolResult:
    order = _resolve_order(ctx, "Changing an order's address", order_id)
    new = _new_address(ctx, order, address)
    order = order_change_address(order=order, actor=ctx.shopper.user, address=new)
    return ToolResult(
        SUCCEEDED,
        f"Order {order.number} now ships to {new.get('line1', '')}, {new.get('city', '')}.",
    )


def _new_address(ctx: ToolContext, order: Order, address: dict[str, Any]) -> dict[str, Any]:
    """The address to ship to: the recipient's name kept from the order (a message gives only the
    street address); an empty one asks for it."""
    if not address:
        raise Unresolved(
            ToolResult(
                SKIPPED,
                "No address given.",
                text='Which address? For example: "ship it to 500 Main St, Austin, TX 78701".',
            )
        )
    user = ctx.shopper.user
    name = (order.shipping_address or {}).get("name") or (user.get_full_name() if user is not None else "")
    return {"name": name, **address}


@preview_for("change_order_address")
def _preview_change_address(
    ctx: ToolContext, address: dict[str, Any], order_id: str | None = None
) -> Preview | ToolResult:
    order = _resolve_order(ctx, "Changing an order's address", order_id)
    new = _new_address(ctx, order, address)
    if not order.can_change_address():
        return ToolResult(
            FAILED, f"Order {order.number} is {order.status}; its address can no longer change."
        )
    where = ", ".join(v for v in (new.get("line1"), new.get("city"), new.get("postalCode")) if v)
    return Preview(
        {"order_id": order.number, "address": address},
        f"Ship order {order.number} to {where} instead? (yes / no)",
    )
