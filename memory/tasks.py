"""Memory's Celery tasks: short, keyed by ids, safe to run twice (ARCHITECTURE rules 9 and 10).

- ``memory.apply_signal``: one view / cart add / purchase -> affinities. Its ``event_key`` receipt
  (unique) makes a redelivery a no-op, so ``acks_late`` is safe.
- ``memory.record_summary``: one conversation summary, written off the request path.
- ``memory.warm_recommended_orders``: after a memory write, the shopper's recent recommended listings
  ranked again under the new memory version (only caches are filled; a lost or doubled one is harmless).
- ``memory.cleanup`` (beat, daily): retention (summaries 180 days, faded affinities, old receipts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import IntegrityError, OperationalError

from memory import services

# IntegrityError: a receipt or a row written by a writer that did not take the shopper's lock; the
# retry finds it.
RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError, IntegrityError),
    "retry_backoff": True,
    "max_retries": 5,
}
# Soft limit (SoftTimeLimitExceeded in the task), then hard limit (the worker process is replaced).
ONE_SHOPPER: dict[str, Any] = {"soft_time_limit": 30, "time_limit": 45}
HOUSEKEEPING: dict[str, Any] = {"soft_time_limit": 300, "time_limit": 360}


@shared_task(name="memory.apply_signal", acks_late=True, **RETRY, **ONE_SHOPPER)
def apply_signal_task(
    *, user_id: int, product_ids: list[int], signal: str, event_key: str, occurred_at: str | None = None
) -> bool:
    when = datetime.fromisoformat(occurred_at) if occurred_at else None
    return services.affinity_apply_signal(
        user_id=user_id, product_ids=product_ids, signal=signal, event_key=event_key, occurred_at=when
    )


@shared_task(name="memory.record_summary", acks_late=False, **RETRY, **ONE_SHOPPER)
def record_summary_task(*, user_id: int, conversation_label: str, text: str, channel: str = "web") -> bool:
    # Not acks_late: a summary is not keyed, and a lost one matters less than a doubled one.
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return False
    services.interaction_summary_record(
        user=user, conversation_label=conversation_label, text=text, channel=channel
    )
    return True


@shared_task(name="memory.warm_recommended_orders", acks_late=False, **ONE_SHOPPER)
def warm_recommended_orders_task(*, user_id: int, requested_at: float | None = None) -> int:
    # No retries: a warm that fails leaves the next view to rank on its own, as without the warm.
    return services.recommended_orders_warm(user_id=user_id, requested_at=requested_at)


@shared_task(name="memory.cleanup", acks_late=True, **RETRY, **HOUSEKEEPING)
def cleanup_task() -> dict:
    return services.memory_cleanup()
