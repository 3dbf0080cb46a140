"""Beat's sweep of the outbox (short, safe to repeat: each row is published under its own lock)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from commerce.outbox import services


@shared_task(
    name="outbox.sweep",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=120,
    time_limit=150,
)
def sweep_task() -> dict[str, int]:
    result = services.outbox_sweep()
    result["purged"] = services.outbox_purge_sent()
    return result
