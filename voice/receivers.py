"""Reactions to other apps' events (connected in ``VoiceConfig.ready``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from voice.services import attribution_record_order


def _order_number(order: Any) -> str:
    for name in ("number", "public_id", "code", "reference"):
        value = getattr(order, name, None)
        if value:
            return str(value)
    return str(order.pk)


def record_order_for_attribution(order: Any) -> None:
    """An order by a shopper who recently had a completed recovery call counts as recovered revenue."""
    user_id = getattr(order, "user_id", None)
    if user_id is None:
        return
    number = _order_number(order)
    amount = Decimal(getattr(order, "total", 0) or 0)
    placed_at = getattr(order, "created_at", None)
    # After commit: a rolled-back checkout must not count as recovered.
    transaction.on_commit(
        lambda: attribution_record_order(
            user_id=user_id, order_number=number, amount=amount, placed_at=placed_at
        )
    )


def on_order_placed(sender: Any, order: Any = None, **kwargs: Any) -> None:
    """Receiver of ``orders.signals.order_placed``."""
    if order is not None:
        record_order_for_attribution(order)
