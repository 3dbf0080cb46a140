"""PostgreSQL with django-prometheus' metrics, the cursor class built once (commerce.metered_db)."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base
from django_prometheus.db.common import DatabaseWrapperMixin

from commerce.metered_db import metered_cursor_class


class DatabaseWrapper(DatabaseWrapperMixin, base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        # psycopg creates the connection's cursors from its cursor_factory (with a pool, the pool's
        # connections keep the one given when the pool was made).
        params = super().get_connection_params()
        params["cursor_factory"] = metered_cursor_class(params["cursor_factory"], self.alias, self.vendor)
        return params

    def create_cursor(self, name: str | None = None) -> Any:
        # Django's: the mixin's passes a factory to connection.cursor(), which psycopg 3 does not take.
        return base.DatabaseWrapper.create_cursor(self, name=name)
