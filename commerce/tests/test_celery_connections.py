"""A Celery worker's database connection between tasks (commerce/celery.py): kept, as a web process
keeps it between requests, and replaced when it died; Celery's Django fixup alone opened a new one for
every task (docs/scaling.md: 105 -> 257 jobs/s for memory's signal on one worker)."""

from __future__ import annotations

import time

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.db import DEFAULT_DB_ALIAS, connection, connections

from commerce.celery import app
from commerce.testing.worker import in_process_worker

# What each run of the task below saw: its connection's server process (PostgreSQL) and its answer.
seen: list[tuple[int, int]] = []


@app.task(name="commerce.tests.database_connection_seen", soft_time_limit=10, time_limit=20)
def database_connection_seen() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (answer,) = cursor.fetchone()
    seen.append((connection.connection.info.backend_pid if connection.vendor == "postgresql" else 0, answer))


def _run_in_worker(count: int, between=None) -> list[tuple[int, int]]:
    seen.clear()
    # A worker's connections live DB_CONN_MAX_AGE (60 s); the test server other tests start sets the
    # shared settings to 0 for the rest of the session (commerce/testing/asgi_server.py).
    shared = connections.settings[DEFAULT_DB_ALIAS]
    max_age = shared["CONN_MAX_AGE"]
    shared["CONN_MAX_AGE"] = 60
    try:
        return _tasks_in_worker(count, between)
    finally:
        shared["CONN_MAX_AGE"] = max_age


def _tasks_in_worker(count: int, between) -> list[tuple[int, int]]:
    with in_process_worker():
        for index in range(count):
            if index and between is not None:
                between(seen[-1][0])
            # send_task, not delay(): the embedded run's Celery is eager, and the worker must run it.
            app.send_task(database_connection_seen.name)
            deadline = time.monotonic() + 30
            while len(seen) <= index:
                assert time.monotonic() < deadline, "the worker did not run the task"
                time.sleep(0.01)
    return list(seen)


def test_celery_s_fixup_recycles_the_connection_only_every_thousand_tasks():
    assert DjangoWorkerFixup(app).db_reuse_max == 1000


@pytest.mark.postgres  # SQLite's in-memory test database ignores a close: one connection either way
@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_its_tasks_on_one_database_connection():
    runs = _run_in_worker(3)

    assert [answer for _, answer in runs] == [1, 1, 1]
    assert len({backend for backend, _ in runs}) == 1, runs


@pytest.mark.postgres  # a server-side disconnect needs PostgreSQL
@pytest.mark.django_db(transaction=True)
def test_a_connection_that_died_between_tasks_is_replaced_and_the_next_task_runs():
    def terminate(backend_pid: int) -> None:
        with connection.cursor() as cursor:  # the test's own connection, not the worker's
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend_pid])

    runs = _run_in_worker(2, between=terminate)

    assert [answer for _, answer in runs] == [1, 1]
    assert runs[0][0] != runs[1][0]


@pytest.mark.django_db
def test_a_task_run_eagerly_leaves_the_caller_s_connection_alone():
    # Inside the test's transaction: closing this connection would end it. An eager task is the
    # caller's own work, so the check between a worker's tasks does nothing.
    before = connection.connection

    database_connection_seen.apply()  # Celery sends task_prerun and task_postrun around it

    # A close inside the transaction would leave the connection object and mark it closed.
    assert connection.connection is before and connection.in_atomic_block
    assert not connection.closed_in_transaction
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
