"""PostgreSQL settings that only web processes get (called by ``commerce.wsgi`` and ``commerce.asgi``).

A web request that runs a statement longer than ``DB_STATEMENT_TIMEOUT_MS`` is cancelled by the server
(the shopper gets the 503 page or JSON error) instead of holding a worker; migrations, management
commands and Celery tasks connect without that cap. 0 turns it off.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections


def use_web_statement_timeout() -> bool:
    """Adds ``statement_timeout`` to the connection options of every PostgreSQL database; True if set."""
    timeout = int(getattr(settings, "DB_STATEMENT_TIMEOUT_MS", 0))
    if timeout <= 0:
        return False
    applied = False
    for alias in connections:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        options = connection.settings_dict.setdefault("OPTIONS", {})
        flag = f"-c statement_timeout={timeout}"
        existing = options.get("options", "")
        if "statement_timeout" not in existing:
            options["options"] = f"{existing} {flag}".strip()
        # Read when the next connection opens; a fresh web process has none open yet.
        applied = True
    return applied
