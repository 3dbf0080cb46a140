from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Sum
from django.db.models.functions import TruncDate

from commerce.accounts.models import ShopperSession, User
from commerce.money import ZERO, percent, quantize
from orders.errors import OrderNotFound
from orders.models import Order, OrderLine, Refund


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


def order_with_lines_known(order: Order, *, lines: list[OrderLine]) -> Order:
    """``order`` as :func:`orders_for_user` would read it (lines by id, refunds), from rows already in
    memory: a just-placed order has exactly ``lines`` and no refunds, so answering it costs no query."""
    # What prefetch_related leaves behind (Django's own attributes), filled from memory.
    cache = order.__dict__.setdefault("_prefetched_objects_cache", {})
    known_lines = OrderLine.objects.filter(order=order).order_by("id")
    known_lines._result_cache = sorted(lines, key=lambda line: line.pk)
    known_lines.__dict__["_prefetch_done"] = True
    no_refunds = Refund.objects.filter(order=order)
    no_refunds._result_cache = []
    no_refunds.__dict__["_prefetch_done"] = True
    cache["lines"] = known_lines
    cache["refunds"] = no_refunds
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


# --- Store figures (the staff dashboard on the admin index) ---------------------------------------
@dataclass(frozen=True)
class Sales:
    """Orders placed (cancelled ones left out) and their revenue net of refunds."""

    orders: int
    revenue: Decimal

    @property
    def average_order_value(self) -> Decimal:
        return quantize(self.revenue / self.orders) if self.orders else ZERO

    def __add__(self, other: Sales) -> Sales:
        return Sales(orders=self.orders + other.orders, revenue=self.revenue + other.revenue)


NO_SALES = Sales(orders=0, revenue=ZERO)


def orders_counted_as_sales() -> QuerySet[Order]:
    """The orders a sales figure counts: every placed order that was not cancelled."""
    return Order.objects.exclude(status=Order.Status.CANCELLED)


def sales_by_day(*, since: datetime, until: datetime) -> dict[date, Sales]:
    """Sales per UTC day of the orders placed in ``[since, until)``; days without one are absent.

    Revenue is the orders' totals less what was refunded on them, so a refunded order adds nothing.
    """
    placed = orders_counted_as_sales().filter(created_at__gte=since, created_at__lt=until)
    per_day = {
        row["day"]: (row["orders"], row["total"])
        for row in placed.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(orders=Count("id"), total=Sum("total"))
    }
    refunded = {
        row["day"]: row["amount"]
        for row in Refund.objects.filter(order__in=placed)
        .annotate(day=TruncDate("order__created_at", tzinfo=UTC))
        .values("day")
        .annotate(amount=Sum("amount"))
    }
    return {
        day: Sales(orders=orders, revenue=quantize(total - refunded.get(day, 0)))
        for day, (orders, total) in per_day.items()
    }


@dataclass(frozen=True)
class Conversion:
    sessions: int
    with_order: int

    @property
    def percent(self) -> Decimal:
        return percent(self.with_order, self.sessions)


def session_conversion(*, since: datetime, until: datetime) -> Conversion:
    """Shopper sessions started in ``[since, until)``, and how many led to an order.

    A session led to an order when its shopper (the account it is, or was signed in as) placed one
    after the session started and before ``until``. A guest who never signs in cannot order.
    """
    sessions = ShopperSession.objects.filter(created_at__gte=since, created_at__lt=until)
    ordered = Order.objects.filter(
        user=OuterRef("user"), created_at__gte=OuterRef("created_at"), created_at__lt=until
    )
    counts = sessions.aggregate(sessions=Count("id"), with_order=Count("id", filter=Exists(ordered)))
    return Conversion(sessions=counts["sessions"], with_order=counts["with_order"])
