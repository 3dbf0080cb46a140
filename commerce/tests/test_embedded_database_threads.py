"""The embedded run's test database is SQLite in memory with a shared cache, seen by every thread of
the test process (the in-process Daphne of the browser tests, the chat socket's worker threads).

Shared-cache SQLite locks whole tables between connections and refuses at once ("database table is
locked": no busy timeout applies) a write to a table another thread is reading. A browser test failed
that way when a page's chat socket read the user while the sign-in wrote it. The suite's connections
read uncommitted (``commerce.testing.sqlite``), which takes no read locks: a reader never blocks a
writer. PostgreSQL (CI's second pass) is not concerned.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from commerce.accounts.models import User
from commerce.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's shared-cache locking only")


@pytest.mark.django_db(transaction=True)
def test_a_write_goes_through_while_another_thread_is_reading_the_table():
    UserFactory.create_batch(3)
    reading, finished = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def read_slowly() -> None:
        try:
            with connection.cursor() as cursor:  # this thread's own connection
                cursor.execute('SELECT "id" FROM "accounts_user"')
                cursor.fetchone()  # the statement stays open, as a page's read in another thread
                reading.set()
                finished.wait(5)
        except BaseException as exc:  # reported to the test below
            failures.append(exc)
            reading.set()
        finally:
            connection.close()

    reader = threading.Thread(target=read_slowly)
    reader.start()
    assert reading.wait(5)
    try:
        updated = User.objects.update(last_login=timezone.now())
    finally:
        finished.set()
        reader.join(5)
    assert not failures
    assert updated == 3
