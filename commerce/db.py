"""PostgreSQL settings that only web processes get (called by ``commerce.wsgi`` and ``commerce.asgi``).

A web request that runs a statement longer than ``DB_STATEMENT_TIMEOUT_MS`` is cancelled by the server
(the shopper gets the 503 page or JSON error) instead of holding a worker; migrations, management
commands and Celery tasks connect without that cap. 0 turns it off.

With a connection pool (``DB_POOL_MAX_SIZE``), Django has psycopg's pool check every connection it
hands out (``CONN_HEALTH_CHECKS``): an empty query, one round trip more for every chat message, whose
work is one pool checkout. :func:`use_pool_idle_checks` keeps the check for a connection that sat in
the pool at least ``DB_POOL_CHECK_IDLE_SECONDS`` (a quiet store's, which a PostgreSQL restart or a
dropped link may have killed) and skips it for one returned a moment ago by a busy process; one found
closed is always checked, so the pool replaces it.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import Any

from django.conf import settings
from django.db import connections
from psycopg_pool import ConnectionPool

# Set on a pooled psycopg connection when it goes back to the pool (the pool's reset callback).
_RETURNED_AT = "_commerce_returned_at"


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


def use_pool_idle_checks() -> int:
    """Makes every PostgreSQL connection pool whose database has ``CONN_HEALTH_CHECKS`` check a
    connection it hands out only after ``DB_POOL_CHECK_IDLE_SECONDS`` in the pool (0: every time, as
    Django does); returns how many pools it changed. Call before serving: the pools exist unopened."""
    idle_seconds = float(getattr(settings, "DB_POOL_CHECK_IDLE_SECONDS", 0))
    if idle_seconds <= 0:
        return 0
    changed = 0
    for alias in connections:
        connection = connections[alias]
        if connection.vendor != "postgresql" or not connection.settings_dict.get("CONN_HEALTH_CHECKS"):
            continue
        pool = connection.pool  # type: ignore[attr-defined]  # Django's psycopg pool, or None
        if pool is None:
            continue
        pool_checked_after_idle(pool, idle_seconds)
        changed += 1
    return changed


def pool_checked_after_idle(pool: ConnectionPool, idle_seconds: float) -> None:
    """Has ``pool`` check a connection it hands out only when the connection sat in it at least
    ``idle_seconds`` or is known closed (the pool then replaces it)."""
    # psycopg_pool keeps the check and reset callbacks given to its constructor as these attributes
    # (commerce/tests/test_db_pool.py fails if that changes); Django's pool property passes the check
    # itself, so no setting can name another.
    pool._check = _checked_after_idle(idle_seconds)
    pool._reset = _stamped_on_return(pool._reset)


def _checked_after_idle(idle_seconds: float) -> Callable[[Any], None]:
    def check(conn: Any) -> None:
        returned_at = getattr(conn, _RETURNED_AT, None)
        if conn.closed or returned_at is None or monotonic() - returned_at >= idle_seconds:
            ConnectionPool.check_connection(conn)

    return check


def _stamped_on_return(reset: Callable[[Any], None] | None) -> Callable[[Any], None]:
    def stamp(conn: Any) -> None:
        if reset is not None:
            reset(conn)
        setattr(conn, _RETURNED_AT, monotonic())

    return stamp
