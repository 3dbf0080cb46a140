"""Checkout sessions opened by an agent platform, their idempotency records and outgoing order events.

Imported by ``orders.models`` so Django sees them as models of the orders app.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_session_id() -> str:
    return f"cs_{secrets.token_urlsafe(18)}"


def _session_expiry():
    return timezone.now() + timedelta(hours=settings.ACP_SESSION_TTL_HOURS)


class AcpCheckoutSession(models.Model):
    """One agent checkout. Its cart is a real guest cart (held by ``shopper_session``), priced and stocked
    by the cart and order services like any other; ``snapshot`` keeps what the session showed when it
    completed or was cancelled, since the cart is emptied (or moved) then."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        CANCELED = "canceled", "Canceled"

    public_id = models.CharField(max_length=40, unique=True, default=new_session_id, editable=False)
    shopper_session = models.OneToOneField(
        "accounts.ShopperSession", on_delete=models.PROTECT, related_name="acp_checkout"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN, db_index=True)
    currency = models.CharField(max_length=3)
    buyer = models.JSONField(default=dict, blank=True)
    fulfillment_details = models.JSONField(default=dict, blank=True)
    selected_fulfillment_option = models.CharField(max_length=40, blank=True)
    # Messages from the last change (an item that could not be added in full): shown until the next one.
    messages = models.JSONField(default=list, blank=True)
    order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="acp_checkout"
    )
    intent_trace = models.JSONField(default=dict, blank=True)
    snapshot = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(default=_session_expiry)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.public_id

    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    def is_expired(self, now=None) -> bool:
        """An open session past ``expires_at`` (ACP_SESSION_TTL_HOURS) can no longer be changed or paid."""
        return self.is_open() and self.expires_at <= (now or timezone.now())


class AcpIdempotencyRecord(models.Model):
    """One POST per endpoint and ``Idempotency-Key``: in flight while ``response_status`` is null, then
    the stored answer that a retry with the same body gets back (spec 2026-04-17, section 6)."""

    endpoint = models.CharField(max_length=200)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    claimed_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "key"], name="acp_idempotency_one_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"

    def in_flight(self) -> bool:
        return self.response_status is None


class AcpWebhookDelivery(models.Model):
    """One order event for the agent platform's webhook, delivered (and retried) by Celery."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (retries exhausted)"

    session = models.ForeignKey(
        AcpCheckoutSession, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    event_type = models.CharField(max_length=20)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.event_type} for {self.session_id} ({self.status})"
