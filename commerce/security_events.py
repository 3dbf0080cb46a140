"""Security events: one call point for everything the store counts and records about abuse.

Each event is a log line on the ``commerce.security`` logger and a Prometheus counter
(``commerce_security_events_total{kind=...}``). Each is also an entry of the audit trail
(``commerce.audit``), written here so every caller reaches it without changing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from prometheus_client import Counter

logger = logging.getLogger("commerce.security")

SECURITY_EVENTS = Counter(
    "commerce_security_events", "Security events (rate-limit penalties, refused requests).", ["kind"]
)


def record_security_event(kind: str, **details: Any) -> None:
    """Count and log one security event of ``kind`` (snake_case) with its ``details``."""
    SECURITY_EVENTS.labels(kind=kind).inc()
    logger.warning("security event %s %s", kind, json.dumps(details, default=str, sort_keys=True))
    from commerce.audit.services import audit_record

    audit_record(action=f"security.{kind}", summary=details)
