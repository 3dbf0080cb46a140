"""Catalog reads on a read replica (``DATABASE_REPLICA_URL``; docs/scaling.md).

The catalog is read on every page and changes rarely, so it is the first load to move off the primary.
Only reads of the ``catalog`` app go to the replica, and only outside a transaction on the primary: a
service that reads in order to write (the import's planning, checkout's row locks) reads the primary.
A replica lags its primary by a moment, so a page may show a price a second old; the checkout and the
cart read prices and stock on the primary, where they are decided.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Model

REPLICA = "replica"
REPLICATED_APPS = frozenset({"catalog"})


class CatalogReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if model._meta.app_label not in REPLICATED_APPS or REPLICA not in settings.DATABASES:
            return None
        if connections["default"].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return None  # the primary

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # The replica holds the same rows as the primary: objects read from either may be related.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db != REPLICA  # the replica gets the schema through replication
