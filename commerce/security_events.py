"""Security events: one call point for everything the store counts and records about abuse.

Each event is a log line on the ``commerce.security`` logger and a Prometheus counter
(``commerce_security_events_total{kind=...}``). Each is also an entry of the audit trail
(``commerce.audit``), written here so every caller reaches it without changing, except the kinds that
anyone can send in bulk without signing in (refused requests, CSP reports, refused voice callbacks):
``audit=False`` counts and logs those, so a flood cannot grow the audit trail.

Kinds: ``rate_limit_penalty``, ``rate_limit_penalty_lifted``, ``rate_limited`` (a request refused),
``login_lockout`` (an account or address locked), ``login_locked`` (a sign-in refused while locked),
``voice_callback_refused``, ``csp_report``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from prometheus_client import Counter

logger = logging.getLogger("commerce.security")

SECURITY_EVENTS = Counter(
    "commerce_security_events",
    "Security events: rate limits, lockouts, refused callbacks, CSP reports (commerce/security_events.py).",
    ["kind"],
)


def record_security_event(kind: str, *, audit: bool = True, **details: Any) -> None:
    """Count and log one security event of ``kind`` (snake_case) with its ``details``; ``audit=False``
    leaves the audit trail out (see the module docstring)."""
    SECURITY_EVENTS.labels(kind=kind).inc()
    logger.warning("security event %s %s", kind, json.dumps(details, default=str, sort_keys=True))
    if not audit:
        return
    from commerce.audit.services import audit_record

    audit_record(action=f"security.{kind}", summary=details)
