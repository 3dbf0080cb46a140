"""Celery tasks of orders: housekeeping only (placing and moving orders never waits on a worker)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from orders.services import idempotency_records_purge


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
