"""Several UPDATEs that belong together as one statement: ``updated_together((queryset, values), ...)``.

A write that changes two rows every time (a cart line's quantity and its cart's activity time) costs
two round trips through ``QuerySet.update``. On PostgreSQL a data-modifying ``WITH`` runs each of its
parts exactly once, so the two can go as one statement, each UPDATE built by Django's own compiler
(the same SQL and parameters ``update()`` would send). Elsewhere (SQLite) they run one after another,
inside the caller's transaction. Like ``update()``, no model signals are sent.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.sql import UpdateQuery


def updated_together(*updates: tuple[QuerySet[Any, Any], dict[str, Any]]) -> None:
    """Runs ``queryset.update(**values)`` for each pair, on PostgreSQL as one statement. Every queryset
    must use the same database and read one table (a filter on the model's own columns)."""
    if not updates:
        return
    using = _write_db(updates[0][0])
    if connections[using].vendor != "postgresql" or len(updates) == 1:
        for queryset, values in updates:
            queryset.update(**values)
        return
    parts: list[str] = []
    params: list[Any] = []
    for queryset, values in updates:
        if _write_db(queryset) != using:
            raise ValueError("updated_together: every queryset must use the same database")
        query = queryset.query.chain(UpdateQuery)
        assert isinstance(query, UpdateQuery)  # chain(klass) returns that class's query
        query.add_update_values(values)
        compiler = query.get_compiler(using)
        compiler.pre_sql_setup()
        if query.related_updates or query.count_active_tables() != 1:
            raise ValueError("updated_together: each update must read its own table only")
        sql, sql_params = compiler.as_sql()
        parts.append(sql)
        params.extend(sql_params)
    *first, last = parts
    withs = ", ".join(f"part_{n} AS ({sql})" for n, sql in enumerate(first))
    with connections[using].cursor() as cursor:
        cursor.execute(f"WITH {withs} {last}", params)


def _write_db(queryset: QuerySet[Any, Any]) -> str:
    """The database ``queryset.update()`` would write to: the one named by ``using()``, else the
    router's choice for writes (never a read replica)."""
    named: str | None = getattr(queryset, "_db", None)  # QuerySet.db's own source (using() sets it)
    return named or router.db_for_write(queryset.model)
