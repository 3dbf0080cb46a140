"""Reads whose SQL Django builds once per process: ``prepared(queryset, "name")``.

Building a SELECT's SQL (the compiler's ``as_sql``: columns, joins, ordering) costs more CPU than
running it: for a cart's lines with their variants and products, 1.8 ms to build against 0.5 ms to
run and fetch (measured in process on PostgreSQL), and a chat message runs several such reads. A
prepared queryset remembers its SQL and the compiler's column map the first time, and afterwards
builds only its WHERE clause (whose parameters change from call to call) and reuses the rest.

What is remembered is keyed by the given name, the query's shape (its select, joins, ordering,
limits, locking, annotations: read from the query, so ``.first()``, ``.count()`` or a prefetch's
filter each get their own entry) and the WHERE clause's SQL text. A query whose SQL carries parameters
outside its WHERE clause is never remembered (it is built every time, as without this). The name
says "this queryset expression": one name for one line of code. ``VERIFY`` (on in the test suite)
builds every remembered query again and fails loudly if the SQL or parameters differ.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.query import Query

Q = TypeVar("Q", bound=QuerySet[Any, Any])

# Set by the test suite (conftest.py): every use of a remembered query is checked against a fresh build.
VERIFY = False

_remembered: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_remembered_lock = threading.Lock()
# A process remembers at most this many shapes (a name whose WHERE text keeps changing, e.g. IN lists of
# every length, stops being remembered rather than growing without end).
MAX_REMEMBERED = 2048


class PreparedQuery(Query):
    """A ``Query`` whose SELECT compilers reuse their SQL (see the module docstring)."""

    prepared_name: str = ""

    def get_compiler(self, using: Any = None, connection: Any = None, elide_empty: bool = True) -> Any:
        compiler = super().get_compiler(using, connection, elide_empty)
        if type(compiler).as_sql is SQLCompiler.as_sql:  # a plain SELECT (not an insert, update, delete)
            _remember_sql(compiler, self.prepared_name)
        return compiler


def prepared(queryset: Q, name: str) -> Q:
    """``queryset``, whose SELECT SQL is built once per process and shape (see the module docstring)."""
    chained = queryset.all()
    chained.query.__class__ = PreparedQuery
    chained.query.prepared_name = name  # type: ignore[attr-defined]  # set on the class swapped in above
    return chained


def _shape(query: Query) -> tuple[Any, ...]:
    """What besides the WHERE clause decides a SELECT's SQL, read from the query without building it."""
    return (
        query.model,
        tuple(query.alias_map),
        tuple(getattr(join, "join_type", None) for join in query.alias_map.values()),
        repr(query.select_related),
        query.values_select,
        tuple(query.annotation_select),
        len(query.select),  # the values' columns are named by values_select
        query.deferred_loading[0] and tuple(sorted(query.deferred_loading[0])),
        query.deferred_loading[1],
        query.order_by,
        query.extra_order_by,
        query.default_ordering,
        query.standard_ordering,
        query.low_mark,
        query.high_mark,
        query.distinct,
        query.distinct_fields,
        query.select_for_update,
        query.select_for_update_nowait,
        query.select_for_update_skip_locked,
        query.select_for_update_of,
        query.group_by is not None,
        query.combinator,
        bool(query.extra),
    )


def _remember_sql(compiler: SQLCompiler, name: str) -> None:
    build = compiler.as_sql

    def as_sql(with_limits: bool = True, with_col_aliases: bool = False) -> tuple[str, Any]:
        try:
            where_sql, where_params = compiler.compile(compiler.query.where)  # type: ignore[arg-type]  # a WhereNode compiles like an expression
        except (EmptyResultSet, FullResultSet):  # nothing or everything matches: the full build says how
            return build(with_limits=with_limits, with_col_aliases=with_col_aliases)
        key = (name, compiler.using, with_limits, with_col_aliases, where_sql, _shape(compiler.query))
        entry = _remembered.get(key)
        if entry is None:
            sql, params = build(with_limits=with_limits, with_col_aliases=with_col_aliases)
            if tuple(params) == tuple(where_params) and len(_remembered) < MAX_REMEMBERED:
                with _remembered_lock:
                    _remembered[key] = (
                        sql,
                        compiler.select,
                        compiler.klass_info,
                        compiler.annotation_col_map,
                        compiler.col_count,
                        compiler.has_extra_select,
                    )
            return sql, params
        sql, select, klass_info, annotation_col_map, col_count, has_extra_select = entry
        params = tuple(where_params)
        if VERIFY:
            fresh = build(with_limits=with_limits, with_col_aliases=with_col_aliases)
            if fresh[0] != sql or tuple(fresh[1]) != params:
                raise AssertionError(
                    f"prepared query {name!r} differs from a fresh build:\n{sql}\n{fresh[0]}"
                )
        compiler.select, compiler.klass_info, compiler.annotation_col_map = (
            select,
            klass_info,
            annotation_col_map,
        )
        compiler.col_count, compiler.has_extra_select = col_count, has_extra_select
        return sql, params

    compiler.as_sql = as_sql  # type: ignore[method-assign]  # this compiler only
