"""SQLite with django-prometheus' metrics; the cursor class built once (commerce.metered_db)."""

from __future__ import annotations

from typing import Any

from django.db.backends.sqlite3 import base
from django_prometheus.db.common import DatabaseWrapperMixin

from commerce.metered_db import metered_cursor_class


class DatabaseWrapper(DatabaseWrapperMixin, base.DatabaseWrapper):
    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(
            factory=metered_cursor_class(base.SQLiteCursorWrapper, self.alias, self.vendor)
        )
