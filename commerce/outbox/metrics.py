"""The outbox's lag for Prometheus (read at each scrape; the `OutboxLag` alert in deploy/ watches it)."""

from __future__ import annotations

import logging
import math

from django.db import DatabaseError

from commerce.metrics import scrape_gauge

logger = logging.getLogger(__name__)


@scrape_gauge(
    "commerce_outbox_oldest_unpublished_seconds",
    "Age of the oldest task still waiting in the outbox for the broker (0 when none).",
)
def oldest_unpublished_seconds() -> float:
    from commerce.outbox.selectors import outbox_backlog

    try:
        return float(outbox_backlog()["oldestPendingSeconds"])
    except (DatabaseError, RuntimeError) as exc:  # no database (or none allowed): report "unknown"
        logger.debug("outbox lag unavailable: %s", exc)
        return math.nan
