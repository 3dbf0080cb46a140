from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from commerce.accounts.models import User
from orders.errors import OrderNotFound
from orders.models import Order, OrderLine


def orders_for_user(user: User) -> QuerySet[Order]:
    return Order.objects.filter(user=user).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")), "refunds"
    )


def order_get_for_user(*, user: User, order_id: str) -> Order:
    """One of the user's own orders by its number; another user's order is simply not found."""
    number = (order_id or "").strip().lstrip("#").upper()
    order = orders_for_user(user).filter(number=number).first() if number else None
    if order is None:
        raise OrderNotFound(f"No order {number or order_id!r} on your account.")
    return order


def order_latest_for_user(user: User) -> Order | None:
    return orders_for_user(user).first()


def last_shipping_address(user: User) -> dict[str, Any] | None:
    order = Order.objects.filter(user=user).order_by("-created_at", "-id").only("shipping_address").first()
    return dict(order.shipping_address) if order else None


def last_payment_method(user: User) -> dict[str, str] | None:
    """The last reusable payment method (only test-gateway tokens are kept; see Order.payment_token)."""
    order = Order.objects.filter(user=user).exclude(payment_token="").order_by("-created_at", "-id").first()
    return {"type": order.payment_method_type, "token": order.payment_token} if order else None
