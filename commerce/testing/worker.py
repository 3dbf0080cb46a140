"""A Celery worker in the test process (a thread, the solo pool, kombu's in-memory broker) for tests
that go through the real worker rather than eager tasks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker
from django.db import connections

from commerce.celery import app
from commerce.testing.faults import celery_broker

_closed: list[bool] = []


@app.task(name="commerce.testing.close_worker_connections", soft_time_limit=10, time_limit=20)
def close_worker_connections() -> None:
    connections.close_all()
    _closed.append(True)


@contextmanager
def in_process_worker() -> Iterator[None]:
    """The worker keeps its database connection between tasks (``CELERY_DB_REUSE_MAX``), in its own
    thread: on the way out a last task closes it there, or the test database could not be dropped at
    the end of the run while that connection stayed open."""
    with (
        celery_broker("memory://"),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60),
    ):
        try:
            yield
        finally:
            _closed.clear()
            app.send_task(close_worker_connections.name)  # never eager: the worker's thread closes them
            deadline = time.monotonic() + 30
            while not _closed:
                if time.monotonic() > deadline:
                    raise RuntimeError("the worker did not close its database connection within 30 s")
                time.sleep(0.01)
