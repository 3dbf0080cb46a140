"""Prometheus metrics of voice recovery.

The gauges are read from the database when /metrics is scraped (``commerce.metrics.scrape_gauge``):
every web process must report the same, current figures, whoever changed them. Calls finished are a
counter, by outcome, counted in the process that learns the outcome (web for callbacks, the worker for
provider errors and time-outs) and summed over processes by the scrape.
"""

from __future__ import annotations

import logging
import math

from django.db import DatabaseError, transaction
from django.utils import timezone
from prometheus_client import Counter

from commerce.metrics import scrape_gauge

logger = logging.getLogger(__name__)

# completed | failed (the provider said so) | provider_error (could not dial) | timed_out | aborted
CALLS = Counter("commerce_voice_calls", "Recovery calls finished, by outcome.", ["outcome"])


def call_finished(outcome: str) -> None:
    """Counts one finished call once its transaction commits (at once outside one)."""
    transaction.on_commit(lambda: CALLS.labels(outcome=outcome).inc())


def _read(fn) -> float:
    try:
        return float(fn())
    except (DatabaseError, RuntimeError) as exc:  # no database (or none allowed): report "unknown"
        logger.debug("voice metrics unavailable: %s", exc)
        return math.nan


@scrape_gauge("commerce_voice_backlog", "Recovery jobs queued or retrying.")
def _backlog() -> float:
    from voice.selectors import backlog_count

    return _read(backlog_count)


@scrape_gauge("commerce_voice_failure_ratio", "Failed over finished call attempts, last 24 hours.")
def _failure_ratio() -> float:
    from voice.selectors import failure_ratio

    return _read(lambda: failure_ratio(now=timezone.now()).ratio)


@scrape_gauge("commerce_voice_open_alerts", "Voice alerts raised and not yet resolved.")
def _open_alerts() -> float:
    from voice.selectors import open_alerts

    return _read(lambda: open_alerts().count())
