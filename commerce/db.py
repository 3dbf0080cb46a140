"""PostgreSQL settings that only web processes get (called by ``commerce.wsgi`` and ``commerce.asgi``), and
the planner statistics a bulk write refreshes (:func:`planner_statistics_refresh`).

A web request that runs a statement longer than ``DB_STATEMENT_TIMEOUT_MS`` is cancelled by the server
(the shopper gets the 503 page or JSON error) instead of holding a worker; migrations, management
commands and Celery tasks connect without that cap. 0 turns it off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, connections

if TYPE_CHECKING:
    from django.db.models import Model


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


# PostgreSQL plans every query from its tables' statistics, which autovacuum refreshes some time after
# a table changes (or never, where it is turned off): right after a bulk write the planner would still
# plan for the tables' old size. Autovacuum's own defaults decide when a table has changed enough.
ANALYZE_THRESHOLD_ROWS = 50
ANALYZE_SCALE_FACTOR = 0.1


def planner_statistics_refresh(*, written: Mapping[type[Model], int]) -> list[str]:
    """``ANALYZE`` of each table of ``written`` (model -> rows created or updated) that has never been
    analysed or changed by more than autovacuum's share since; the tables analysed. PostgreSQL only (the
    embedded SQLite default is a one-process demo store)."""
    if connection.vendor != "postgresql":
        return []
    analysed = []
    with connection.cursor() as cursor:
        for model, rows in written.items():
            table = model._meta.db_table
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            (known_rows,) = cursor.fetchone()
            if rows and (known_rows < 0 or rows > ANALYZE_THRESHOLD_ROWS + ANALYZE_SCALE_FACTOR * known_rows):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")  # nosec B608: a model's table
                analysed.append(table)
    return analysed
