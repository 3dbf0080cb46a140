"""Implicit memory from other apps' events (connected in ``MemoryConfig.ready`` with dispatch_uid).

- A cart line created for a signed-in shopper's cart: ``cart_add`` (weight 3).
- An order placed: ``purchase`` (weight 5) for each product in it, via ``orders.signals.order_placed``
  when the orders app sends it, else ``post_save`` of each new ``orders.OrderLine``.
Each receiver only schedules a task after commit (``memory_record_signal``); nothing is written here.
"""

from __future__ import annotations

from typing import Any

from commerce.accounts.types import MaybeUser
from memory.services import memory_record_signal, memory_record_view


def on_cart_line_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if not created or raw:
        return
    # Both are set on the instance by cart_add_item (no query); a guest cart has no user.
    user_id = instance.cart.user_id
    if user_id is None:
        return
    memory_record_signal(
        user_id=user_id,
        product_ids=[instance.variant.product_id],
        signal="cart_add",
        event_key=f"cartline:{instance.pk}",
    )


def _line_product_id(line: Any) -> int | None:
    product_id = getattr(line, "product_id", None)
    if product_id is None and getattr(line, "variant_id", None) is not None:
        product_id = line.variant.product_id
    return product_id


def on_order_placed(sender: Any, order: Any = None, **kwargs: Any) -> None:
    """Receiver of ``orders.signals.order_placed(order=...)``."""
    if order is None or getattr(order, "user_id", None) is None:
        return
    product_ids = [pid for pid in (_line_product_id(line) for line in order.lines.all()) if pid]
    memory_record_signal(
        user_id=order.user_id, product_ids=product_ids, signal="purchase", event_key=f"order:{order.pk}"
    )


def on_product_viewed(
    sender: Any, user: MaybeUser = None, product_id: int | None = None, **kwargs: Any
) -> None:
    """Receiver of ``catalog.signals.product_viewed``: a signed-in shopper's view feeds their interests
    (deduplicated, written by a task after commit); a guest records nothing."""
    if product_id is not None:
        memory_record_view(user=user, product_id=product_id)
