"""Which database the settings choose (issue 17): ``DATABASE_URL`` keeps its engine, ``SQLITE_PATH``
still places the embedded file. Each case is a fresh ``manage.py`` process, since settings are read once."""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path

from commerce.tests.test_deploy import UNREACHED_POSTGRES, _manage

PRINT_DATABASE = (
    "import json; from django.conf import settings as s; from django.db import connection; "
    "db = s.DATABASES['default']; "
    "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']), "
    "'vendor': connection.vendor, 'postgres': s.USING_POSTGRES}))"
)


def _database_of(env: dict[str, str], tmp_path: Path) -> dict:
    done = _manage("shell", "-c", PRINT_DATABASE, env=env, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _production(**env: str) -> dict[str, str]:
    return {"SECRET_KEY": secrets.token_urlsafe(50), **env}


def test_a_sqlite_database_url_is_sqlite_at_that_path_and_migrates_there(tmp_path):
    db_file = tmp_path / "twelve-factor.sqlite3"
    env = _production(DATABASE_URL=f"sqlite:///{db_file}")

    described = _database_of(env, tmp_path)
    migrated = _manage("migrate", "--noinput", env=env, tmp_path=tmp_path)

    assert described == {
        "engine": "commerce.metered_db.sqlite3",
        "name": str(db_file),
        "vendor": "sqlite",
        "postgres": False,
    }
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(db_file) as db:
        assert db.execute("select count(*) from django_migrations").fetchone()[0] > 0
    assert not (tmp_path / "db.sqlite3").exists(), "SQLITE_PATH's file is not the one used"


def test_without_a_database_url_the_embedded_file_is_at_sqlite_path(tmp_path):
    described = _database_of({}, tmp_path)

    assert described["engine"] == "commerce.metered_db.sqlite3"
    assert described["name"] == str(tmp_path / "db.sqlite3")


def test_a_postgres_database_url_is_postgresql(tmp_path):
    described = _database_of(_production(DATABASE_URL=UNREACHED_POSTGRES), tmp_path)

    assert described["engine"] == "commerce.metered_db.postgresql"
    assert described["postgres"] is True and described["vendor"] == "postgresql"


def test_an_engine_the_store_does_not_run_on_is_refused_by_name(tmp_path):
    done = _manage(
        "check", env=_production(DATABASE_URL="mysql://shop:pw@127.0.0.1:3306/shop"), tmp_path=tmp_path
    )

    assert done.returncode != 0
    assert "'mysql' engine; this store runs on PostgreSQL or SQLite" in done.stderr


PRINT_BINDING = (
    "import json; from django.conf import settings as s; o = s.DATABASES['default']['OPTIONS']; "
    "print(json.dumps([o.get('server_side_binding'), o.get('prepare_threshold')]))"
)


def test_postgresql_prepares_statements_unless_the_threshold_is_zero(tmp_path):
    def binding(**env: str) -> list:
        done = _manage("shell", "-c", PRINT_BINDING, env=_production(**env), tmp_path=tmp_path)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert binding(DATABASE_URL=UNREACHED_POSTGRES) == [True, 5]
    assert binding(DATABASE_URL=UNREACHED_POSTGRES, DB_PREPARE_THRESHOLD="2") == [True, 2]
    assert binding(DATABASE_URL=UNREACHED_POSTGRES, DB_PREPARE_THRESHOLD="0") == [None, None]
