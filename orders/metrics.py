"""Prometheus metrics of checkout: every ``order_place`` call by outcome."""

from __future__ import annotations

from prometheus_client import Counter

# placed | replayed (same Idempotency-Key) | a DomainError code (payment_declined, out_of_stock, ...) | error
CHECKOUTS = Counter("commerce_checkouts", "Checkout attempts (order_place) by outcome.", ["outcome"])
