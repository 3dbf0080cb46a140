"""Work handed to Celery, kept in the database until the broker has it (the transactional outbox)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class OutboxMessageQuerySet(models.QuerySet["OutboxMessage"]):
    def due(self, now) -> OutboxMessageQuerySet:
        return self.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)


class OutboxMessage(models.Model):
    """One task to publish: written in the transaction that decided on it, published after commit.

    ``pending`` until the broker accepted it (``sent``); ``failed`` once ``OUTBOX_MAX_ATTEMPTS``
    publishes have failed, where staff see it in the admin and can send it again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    task_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=100, blank=True)
    eta = models.DateTimeField(null=True, blank=True, help_text="When the task should run (a countdown).")
    # The request's log context (request id, user id, session id), so a task re-published by the
    # sweep still logs as part of the request that started it.
    log_context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.status})"
