"""Several UPDATEs that belong together as one statement: ``updated_together((queryset, values), ...)``.

A write that changes two rows every time (a cart line's quantity and its cart's activity time) costs
two round trips through ``QuerySet.update``. On PostgreSQL a data-modifying ``WITH`` runs each of its
parts exactly once, so the two can go as one statement, each UPDATE built by Django's own compiler
(the same SQL and parameters ``update()`` would send). Elsewhere (SQLite) they run one after another,
inside the caller's transaction. Like ``update()``, no model signals are sent.

``rows_updated_together((row, values), ...)`` is the same for saved rows named by their primary key,
the hot case (a cart write's line and cart): its SQL is built once per process and shape (the models,
the fields set and which of their values are None), afterwards only the values are prepared, as
``update()`` prepares them.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, router
from django.db.models import Field, Model, QuerySet
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
    sql, params = _together(using, updates)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)


# rows_updated_together's statements by shape: (database, ((model, ((field, is None), ...)), ...)). The
# shapes are the callers' own, a handful, so the bound is only a guard.
_remembered: dict[tuple[Any, ...], str] = {}
MAX_REMEMBERED = 256


def rows_updated_together(*updates: tuple[Model, dict[str, Any]]) -> None:
    """:func:`updated_together` for saved rows, each named by its primary key (``(row, values)``), with
    the statement built once per process and shape. A value that is an expression (``F()``), a
    database other than PostgreSQL, or a statement whose parameters are not the values prepared as
    ``update()`` prepares them, then each row's key, is built every time."""
    if not updates:
        return
    using = router.db_for_write(type(updates[0][0]))
    connection = connections[using]

    def by_key() -> tuple[tuple[QuerySet[Any, Any], dict[str, Any]], ...]:
        return tuple((type(row)._base_manager.filter(pk=row.pk), values) for row, values in updates)

    params = _prepared(updates, connection) if connection.vendor == "postgresql" else None
    if params is None:
        updated_together(*by_key())
        return
    # Django writes a None as NULL in the SQL, not as a parameter: which values are None is shape too.
    shape = (
        using,
        tuple((type(row), tuple((k, v is None) for k, v in values.items())) for row, values in updates),
    )
    sql = _remembered.get(shape)
    if sql is None:
        sql, built = _together(using, by_key())
        if built != params:  # not what this prepares: run as built, never remembered
            params = built
        elif len(_remembered) < MAX_REMEMBERED:
            _remembered[shape] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _prepared(updates: tuple[tuple[Model, dict[str, Any]], ...], connection: Any) -> list[Any] | None:
    """Each update's values prepared as ``update()`` prepares a plain value (a None is no parameter:
    the statement says NULL), then its row's key; None when a value is not plain (an expression, a
    model instance) or names no concrete field."""
    params: list[Any] = []
    for row, values in updates:
        meta = row._meta
        for name, value in values.items():
            field = meta.get_field(name)
            if not isinstance(field, Field) or not field.concrete:
                return None
            if hasattr(value, "resolve_expression") or hasattr(value, "prepare_database_save"):
                return None
            if value is not None:  # written as NULL in the statement
                params.append(field.get_db_prep_save(value, connection))
        params.append(meta.pk.get_db_prep_value(row.pk, connection))
    return params


def _together(
    using: str, updates: tuple[tuple[QuerySet[Any, Any], dict[str, Any]], ...]
) -> tuple[str, list[Any]]:
    """The updates as one statement (a data-modifying WITH for all but the last) and its parameters,
    each part built by Django's update compiler."""
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
    if not first:
        return last, params
    withs = ", ".join(f"part_{n} AS ({sql})" for n, sql in enumerate(first))
    return f"WITH {withs} {last}", params  # nosec B608 - each part is Django's compiled UPDATE, values as parameters


def _write_db(queryset: QuerySet[Any, Any]) -> str:
    """The database ``queryset.update()`` would write to: the one named by ``using()``, else the
    router's choice for writes (never a read replica)."""
    named: str | None = getattr(queryset, "_db", None)  # QuerySet.db's own source (using() sets it)
    return named or router.db_for_write(queryset.model)
