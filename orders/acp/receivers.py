from __future__ import annotations

from typing import Any

from orders.acp.services import order_changed
from orders.models import Order


def on_order_status_changed(sender: Any, *, order: Order, from_status: str, **kwargs: Any) -> None:
    order_changed(order=order, from_status=from_status)
