"""DB_POOL_MAX_SIZE: the socket processes' PostgreSQL connection pool (docs/operations.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

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
