"""Order events to the agent platform's webhook: short, safe to repeat, retried with backoff."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from orders.acp.idempotency import records_purge
from orders.acp.services import WebhookDeliveryFailed, webhook_deliver, webhook_give_up

BACKOFF_BASE_SECONDS = 10


def backoff_seconds(retries: int) -> int:
    """10 s doubling, capped at the longest ETA the broker's visibility timeout allows for (a retry
    waiting longer would be delivered twice)."""
    return int(min(BACKOFF_BASE_SECONDS * 2**retries, settings.CELERY_LONGEST_ETA_SECONDS))


@shared_task(bind=True, name="orders.acp.deliver_webhook", acks_late=True, max_retries=None)
def deliver_webhook_task(self: Any, delivery_id: int) -> None:
    # Safe to repeat: a delivered event is not sent again (its status says so).
    try:
        webhook_deliver(delivery_id=delivery_id)
    except WebhookDeliveryFailed as exc:
        if self.request.retries >= settings.ACP_WEBHOOK_MAX_RETRIES:
            webhook_give_up(delivery_id=delivery_id, error=str(exc))
            return
        raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries)) from exc


@shared_task(name="orders.acp.purge_idempotency_records", expires=30 * 60)
def purge_idempotency_records_task() -> int:
    return records_purge()
