"""A Celery worker's database connection between tasks (commerce/celery.py): kept, as a web process
keeps it between requests, and replaced when it died; Celery's Django fixup alone opened a new one for
every task (docs/scaling.md: 105 -> 257 jobs/s for memory's signal on one worker)."""

from __future__ import annotations

import time

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from commerce.celery import app
from commerce.testing.worker import in_process_worker

# What each run of the task below saw: its connection's server-side identity and its answer.
seen: list[tuple[object, int]] = []


@app.task(name="commerce.tests.database_connection_seen", soft_time_limit=10, time_limit=20)
def database_connection_seen() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (answer,) = cursor.fetchone()
    # The server process on PostgreSQL; on SQLite (one file, no server) the DB-API connection object
    # itself, kept here so that a new one cannot take its place in memory.
    if connection.vendor == "postgresql":
        identity: object = connection.connection.info.backend_pid
    else:
        identity = connection.connection
    seen.append((identity, answer))


def _run_in_worker(count: int, between=None) -> list[tuple[object, int]]:
    seen.clear()
    with in_process_worker():
        for index in range(count):
            if index and between is not None:
                between(seen[-1][0])
            database_connection_seen.delay()
            deadline = time.monotonic() + 30
            while len(seen) <= index:
                assert time.monotonic() < deadline, "the worker did not run the task"
                time.sleep(0.01)
    return list(seen)


def test_celery_s_fixup_recycles_the_connection_only_every_thousand_tasks():
    assert DjangoWorkerFixup(app).db_reuse_max == 1000


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_its_tasks_on_one_database_connection():
    runs = _run_in_worker(3)

    assert [answer for _, answer in runs] == [1, 1, 1]
    assert all(identity is runs[0][0] or identity == runs[0][0] for identity, _ in runs)


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_died_between_tasks_is_replaced_and_the_next_task_runs():
    if connection.vendor != "postgresql":
        pytest.skip("a server-side disconnect needs PostgreSQL")

    def terminate(backend_pid: object) -> None:
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

    assert connection.connection is before and connection.in_atomic_block
