"""The database engines count, time and classify every statement with django-prometheus' metrics,
with one cursor class per connection kind (commerce.metered_db)."""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django_prometheus.db import errors_total, execute_many_total, execute_total, query_duration_seconds

from catalog.models import Category

pytestmark = pytest.mark.django_db


METRICS = (errors_total, execute_many_total, execute_total, query_duration_seconds)


def _sample(name: str, **labels: str) -> float:
    """One metric's sample, read from the metric itself: a scrape of the whole registry would run the
    store's own gauges, whose queries would be counted too."""
    labels = {"alias": "default", "vendor": connection.vendor, **labels}
    for metric in METRICS:
        for family in metric.collect():
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return sample.value
    return 0.0


def test_each_statement_is_counted_and_timed():
    executed, timed = _sample("django_db_execute_total"), _sample("django_db_query_duration_seconds_count")
    list(Category.objects.all())
    Category.objects.filter(pk=0).exists()
    assert _sample("django_db_execute_total") == executed + 2
    assert _sample("django_db_query_duration_seconds_count") == timed + 2


def test_a_failing_statement_is_counted_by_its_error_type_and_still_timed():
    timed = _sample("django_db_query_duration_seconds_count")
    kinds = ("OperationalError", "UndefinedTable")  # SQLite's, psycopg's: the driver's own exception
    errors = {kind: _sample("django_db_errors_total", type=kind) for kind in kinds}
    with pytest.raises(DatabaseError) as raised, connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    kind = type(raised.value.__cause__ or raised.value).__name__
    assert kind in kinds
    assert _sample("django_db_errors_total", type=kind) == errors[kind] + 1
    assert _sample("django_db_query_duration_seconds_count") == timed + 1


def test_a_bulk_statement_counts_each_row():
    executed, bulk = _sample("django_db_execute_total"), _sample("django_db_execute_many_total")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {Category._meta.db_table} SET name = name WHERE id = %s", [(0,), (-1,), (-2,)]
        )
    assert _sample("django_db_execute_total") == executed + 3
    assert _sample("django_db_execute_many_total") == bulk + 3


def test_the_cursor_class_is_built_once_not_per_connection_or_cursor():
    with connection.cursor() as cursor:
        first = type(cursor.cursor)
    other = connections.create_connection(DEFAULT_DB_ALIAS)  # a second connection of its own
    try:
        with other.cursor() as cursor:
            assert type(cursor.cursor) is first
    finally:
        other.close()
    assert first.__name__.startswith("Metered")
