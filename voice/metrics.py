"""Prometheus gauges for voice recovery, read from the database when /metrics is scraped.

Computed at scrape time rather than set by the worker: in the production shape the worker does not
serve /metrics, and every web process must report the same, current figures.
"""

from __future__ import annotations

import logging
import math

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import Gauge

logger = logging.getLogger(__name__)


def _read(fn) -> float:
    try:
        return float(fn())
    except (DatabaseError, RuntimeError) as exc:  # no database (or none allowed): report "unknown"
        logger.debug("voice metrics unavailable: %s", exc)
        return math.nan


def _backlog() -> float:
    from voice.selectors import backlog_count

    return _read(backlog_count)


def _failure_ratio() -> float:
    from voice.selectors import failure_ratio

    return _read(lambda: failure_ratio(now=timezone.now()).ratio)


def _open_alerts() -> float:
    from voice.selectors import open_alerts

    return _read(lambda: open_alerts().count())


BACKLOG = Gauge("commerce_voice_backlog", "Recovery jobs queued or retrying.")
BACKLOG.set_function(_backlog)
FAILURE_RATIO = Gauge("commerce_voice_failure_ratio", "Failed over finished call attempts, last 24 hours.")
FAILURE_RATIO.set_function(_failure_ratio)
OPEN_ALERTS = Gauge("commerce_voice_open_alerts", "Voice alerts raised and not yet resolved.")
OPEN_ALERTS.set_function(_open_alerts)
