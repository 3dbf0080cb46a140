"""DB_POOL_MAX_SIZE: the socket processes' PostgreSQL connection pool (docs/operations.md), and
DB_POOL_CHECK_IDLE_SECONDS: a pooled connection is checked only after it sat idle (commerce.db).

A backend killed while its connection waits in the pool shows whether the check ran: after the idle
time the pool finds it dead and hands out a new one; a moment after its return the check is skipped
(the price of the round trip saved: that statement fails, and the pool replaces the connection)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from psycopg_pool import ConnectionPool

from commerce.db import pool_checked_after_idle, use_pool_idle_checks

UNREACHED_POSTGRES = "postgres://postgres@127.0.0.1:1/never"

SHOW_DATABASE = (
    "import json; from django.conf import settings; d = settings.DATABASES['default']; "
    "print(json.dumps({'CONN_MAX_AGE': d['CONN_MAX_AGE'], 'pool': d['OPTIONS'].get('pool')}))"
)

# Six requests' worth of work on one process: each ends by closing its connection, as
# database_sync_to_async does for every socket message; the pool hands its server sessions back.
SIX_CLOSES = (
    "import json; from django.db import connection\n"
    "pids = []\n"
    "for _ in range(6):\n"
    "    with connection.cursor() as cursor:\n"
    "        cursor.execute('SELECT pg_backend_pid()')\n"
    "        pids.append(cursor.fetchone()[0])\n"
    "    connection.close()\n"
    "print(json.dumps(pids))"
)

# Django's own pool after commerce.asgi's call: the connection just returned is killed, then used.
KILLED_THEN_USED = (
    "import json, os, psycopg; from django.db import connection, OperationalError\n"
    "from commerce.db import use_pool_idle_checks\n"
    "changed = use_pool_idle_checks()\n"
    "with connection.cursor() as cursor:\n"
    "    cursor.execute('SELECT pg_backend_pid()')\n"
    "    pid = cursor.fetchone()[0]\n"
    "connection.close()\n"
    "with psycopg.connect(os.environ['DATABASE_URL'], autocommit=True) as other:\n"
    "    other.execute('SELECT pg_terminate_backend(%s)', [pid])\n"
    "try:\n"
    "    with connection.cursor() as cursor:\n"
    "        cursor.execute('SELECT 1')\n"
    "    failed = False\n"
    "except OperationalError:\n"
    "    failed = True\n"
    "print(json.dumps({'changed': changed, 'failed': failed}))"
)


def _shell(code: str, env: dict[str, str], tmp_path: Path) -> str:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env={**base, "SECRET_KEY": "test-only", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_no_pool_unless_asked(tmp_path):
    shown = json.loads(_shell(SHOW_DATABASE, {"DATABASE_URL": UNREACHED_POSTGRES}, tmp_path))
    assert shown == {"CONN_MAX_AGE": 60, "pool": None}


def test_a_pool_size_turns_the_pool_on_and_persistent_connections_off(tmp_path):
    env = {"DATABASE_URL": UNREACHED_POSTGRES, "DB_POOL_MAX_SIZE": "8", "DB_CONN_MAX_AGE": "60"}
    shown = json.loads(_shell(SHOW_DATABASE, env, tmp_path))
    assert shown == {"CONN_MAX_AGE": 0, "pool": {"min_size": 1, "max_size": 8, "timeout": 5.0}}


@pytest.mark.postgres
def test_pooled_connections_survive_a_close(tmp_path):
    # The server's own maintenance database: always there, and no test database is touched.
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    without = json.loads(_shell(SIX_CLOSES, {"DATABASE_URL": url, "DB_CONN_MAX_AGE": "0"}, tmp_path))
    assert len(set(without)) == 6  # a new server process for each request
    pooled = json.loads(
        _shell(SIX_CLOSES, {"DATABASE_URL": url, "DB_CONN_MAX_AGE": "0", "DB_POOL_MAX_SIZE": "2"}, tmp_path)
    )
    assert len(set(pooled)) <= 2  # the pool's sessions, taken in turn


@pytest.mark.postgres
@pytest.mark.parametrize(("idle_seconds", "failed"), [("60", True), ("0", False)])
def test_djangos_pool_skips_the_check_for_a_connection_just_returned(tmp_path, idle_seconds, failed):
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    env = {"DATABASE_URL": url, "DB_POOL_MAX_SIZE": "1", "DB_POOL_CHECK_IDLE_SECONDS": idle_seconds}
    shown = json.loads(_shell(KILLED_THEN_USED, env, tmp_path))
    assert shown == {"changed": 1 if idle_seconds != "0" else 0, "failed": failed}


IDLE_SECONDS = 0.3


@pytest.fixture
def pool():
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    made = ConnectionPool(  # as Django builds its pool (CONN_HEALTH_CHECKS on)
        kwargs={**params, "autocommit": True},
        min_size=1,
        max_size=1,
        open=True,
        check=ConnectionPool.check_connection,
    )
    pool_checked_after_idle(made, IDLE_SECONDS)
    yield made
    made.close()


def _backend_pid(pool: ConnectionPool) -> int:
    with pool.connection() as conn:
        return conn.info.backend_pid


def _terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_connection_idle_past_the_threshold_is_checked_and_replaced_when_dead(pool):
    pid = _backend_pid(pool)
    _terminate(pid)
    time.sleep(IDLE_SECONDS + 0.1)
    with pool.connection() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.info.backend_pid != pid  # the dead one was found by the check and replaced
    assert pool.get_stats().get("connections_lost", 0) == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_connection_back_a_moment_ago_is_handed_out_without_a_round_trip(pool):
    pid = _backend_pid(pool)
    _terminate(pid)
    with pool.connection() as conn:  # within the idle time: not checked, so still the dead one
        assert conn.info.backend_pid == pid
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    with pool.connection() as conn:  # returned broken: the pool made a new one
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.django_db
def test_without_a_pool_or_with_the_check_at_zero_no_pool_changes():
    assert use_pool_idle_checks() == 0  # the test database has no pool
    with override_settings(DB_POOL_CHECK_IDLE_SECONDS=0):
        assert use_pool_idle_checks() == 0
