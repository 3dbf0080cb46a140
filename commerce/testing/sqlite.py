"""Test-suite plugin: the embedded run's SQLite connections read uncommitted.

The embedded test database is SQLite in memory with a shared cache, which every thread of the test
process sees (the browser tests' in-process Daphne, the chat socket's worker threads). Shared-cache
SQLite locks whole tables between connections and refuses a write at once, with no busy timeout, when
another connection is reading that table ("database table is locked"): a browser test's sign-in failed
so while the page's chat socket read the user. A read-uncommitted connection takes no table read
locks, so a reader never blocks a writer (commerce/tests/test_embedded_database_threads.py). Production
never runs on an in-memory database, and PostgreSQL has no such locks; this plugin changes nothing there.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created


def _read_uncommitted(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]  # SQLite's wrapper
        connection.connection.execute("PRAGMA read_uncommitted = 1")


connection_created.connect(_read_uncommitted, dispatch_uid="commerce.testing.sqlite.read_uncommitted")
