"""PostgreSQL prepares a statement a connection runs often (``DB_PREPARE_THRESHOLD``, commerce/settings.py):
later runs skip parsing and planning."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from catalog.models import Category

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _prepared_on_this_connection(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{table}%"])
        return cursor.fetchone()[0]


def test_a_statement_run_past_the_threshold_is_prepared_on_the_server():
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    Category.objects.create(name="Trail", slug="trail")
    for run in range(threshold):
        assert _prepared_on_this_connection("catalog_category") == 0, f"prepared after {run} runs"
        assert [c.name for c in Category.objects.filter(slug="trail")] == ["Trail"]
    assert [c.name for c in Category.objects.filter(slug="trail")] == ["Trail"]  # from the prepared plan
    assert _prepared_on_this_connection("catalog_category") == 1
