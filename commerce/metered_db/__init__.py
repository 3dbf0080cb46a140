"""The database engines: Django's PostgreSQL and SQLite backends with django-prometheus' metrics
(``django_db_*``), their cursor class built once.

django-prometheus builds a new cursor class on every connection (PostgreSQL: twice; SQLite: on every
cursor) and looks each statement's labelled metrics up again (a lock and a dict lookup per metric):
together about 3% of a chat process's CPU under load (py-spy, docs/benchmarks.md). Here the class is
built once per cursor class, alias and vendor and keeps its labelled metrics. The metrics are
django-prometheus' own objects, with their names and labels: dashboards and alerts read the same series.
"""

from __future__ import annotations

import functools
from timeit import default_timer
from typing import Any

from django_prometheus.db import errors_total, execute_many_total, execute_total, query_duration_seconds


@functools.cache
def metered_cursor_class(cursor_class: type, alias: str, vendor: str) -> type:
    """``cursor_class`` counting its statements (``django_db_execute_total``, ``..._execute_many_total``),
    timing them (``django_db_query_duration_seconds``) and counting their errors by exception type
    (``django_db_errors_total``), as django-prometheus' ``ExportingCursorWrapper`` does."""
    executed = execute_total.labels(alias, vendor)
    executed_in_bulk = execute_many_total.labels(alias, vendor)
    duration = query_duration_seconds.labels(alias, vendor)

    def timed(run: Any, *args: Any, **kwargs: Any) -> Any:
        started = default_timer()
        try:
            return run(*args, **kwargs)
        except BaseException as exc:
            errors_total.labels(alias, vendor, type(exc).__name__).inc()
            raise
        finally:
            duration.observe(max(default_timer() - started, 0))

    class MeteredCursor(cursor_class):
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            executed.inc()
            return timed(super().execute, *args, **kwargs)

        def executemany(self, query: Any, param_list: Any, *args: Any, **kwargs: Any) -> Any:
            executed.inc(len(param_list))
            executed_in_bulk.inc(len(param_list))
            return timed(super().executemany, query, param_list, *args, **kwargs)

    MeteredCursor.__name__ = MeteredCursor.__qualname__ = f"Metered{cursor_class.__name__}"
    return MeteredCursor
