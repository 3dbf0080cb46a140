"""Reads of the outbox: how far behind publishing is (``/health`` and the runbook)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Min, Q
from django.utils import timezone

from commerce.outbox.models import OutboxMessage


def outbox_backlog(*, now: datetime | None = None) -> dict[str, int]:
    """Pending and failed messages, and the age in seconds of the oldest pending one (0 when none)."""
    now = now or timezone.now()
    figures = OutboxMessage.objects.aggregate(
        pending=Count("pk", filter=Q(status=OutboxMessage.Status.PENDING)),
        failed=Count("pk", filter=Q(status=OutboxMessage.Status.FAILED)),
        oldest=Min("created_at", filter=Q(status=OutboxMessage.Status.PENDING)),
    )
    oldest = figures["oldest"]
    return {
        "pending": figures["pending"],
        "failed": figures["failed"],
        "oldestPendingSeconds": int((now - oldest).total_seconds()) if oldest else 0,
    }
