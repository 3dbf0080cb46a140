"""Celery tasks of orders: what follows a placed order, and housekeeping (placing and moving orders never
waits on a worker)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from orders.services import idempotency_records_purge, order_placed_announce


@shared_task(
    name="orders.purge_idempotency_records",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def purge_idempotency_records_task() -> int:
    # Safe to repeat: it deletes what has expired by now, whoever ran before.
    return idempotency_records_purge()


@shared_task(
    name="orders.announce_order_placed",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def announce_order_placed_task(order_id: int) -> bool:
    # Safe to repeat (the outbox may deliver twice): every receiver of order_placed counts an order once.
    return order_placed_announce(order_id=order_id)
