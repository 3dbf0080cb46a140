"""The production shape as an operator runs it: the compose file's one-shot loaders and health checks,
and the container health-check script against a real server."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

BASE = Path(settings.BASE_DIR)
sys.path.insert(0, str(BASE / "deploy"))
import healthcheck  # noqa: E402  (deploy/healthcheck.py, the script the containers run)


def _compose() -> dict:
    return yaml.safe_load((BASE / "docker-compose.yml").read_text())


def _manage_commands(script: str) -> list[list[str]]:
    """The ``python manage.py ...`` calls of a compose shell command, in order."""
    return [
        shlex.split(found)
        for found in re.findall(r"python manage\.py ([^&;]+?)\s*(?:&&|;|$)", script, flags=re.MULTILINE)
    ]


def test_compose_migrate_loads_the_demo_extras_and_policies_only_with_demo_1():
    migrate = _compose()["services"]["migrate"]
    script = migrate["command"][-1]
    always, demo_only = script.split('if [ "$$DEMO" = "1" ]; then')
    assert migrate["environment"]["DEMO"] == "${DEMO:-0}"
    assert [c[0] for c in _manage_commands(always)] == ["migrate", "load_store_policies"]
    assert [c[0] for c in _manage_commands(demo_only)] == ["load_catalog", "load_demo_extras"]


@pytest.mark.django_db
def test_the_compose_demo_loaders_give_the_readme_demo_codes_and_policies():
    from carts.models import Discount
    from conversations.models import StorePolicy

    script = _compose()["services"]["migrate"]["command"][-1]
    for name, *args in _manage_commands(script):
        if name != "migrate":  # the test database is migrated already
            call_command(name, *[str(BASE / a) if a.endswith(".json") else a for a in args], verbosity=0)
    assert set(Discount.objects.values_list("code", flat=True)) >= {"SAVE10", "WELCOME5"}
    assert StorePolicy.objects.filter(is_active=True).exists()


def test_web_socket_and_worker_containers_have_health_checks():
    services = _compose()["services"]
    # Liveness, not readiness: a Redis or database outage must not get running processes restarted.
    assert services["web"]["healthcheck"]["test"][-1] == "http://127.0.0.1:8000/health/live"
    assert services["ws"]["healthcheck"]["test"][-1] == "http://127.0.0.1:8001/health/live"
    # The worker's own exporter answers liveness (a broker ping would fail with Redis down).
    assert services["worker"]["healthcheck"]["test"][-1] == "http://127.0.0.1:9808/health/live"
    assert services["worker"]["environment"]["CELERY_METRICS_PORT"] == "9808"


@pytest.mark.django_db(transaction=True)
def test_the_health_check_script_passes_a_live_site_and_fails_a_closed_port(live_server, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "web"]  # the Host the script sends
    assert healthcheck.healthy(f"{live_server.url}/health")
    assert healthcheck.healthy(f"{live_server.url}/health/live")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    assert not healthcheck.healthy(f"http://127.0.0.1:{closed_port}/health")


# --- backup and restore (deploy/pg_backup_check.py) ------------------------------------------------
sys.path.insert(0, str(BASE / "deploy"))
import pg_backup_check  # noqa: E402


def test_the_backup_check_fails_on_a_missing_table_or_a_different_count():
    lines = pg_backup_check.compare(
        {"public.a": 3, "public.b": 2, "public.c": 0}, {"public.a": 3, "public.b": 1}
    )
    assert [line.split()[0] for line in lines] == ["ok", "MISMATCH", "MISSING"]


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_scratch_database_with_every_row(tmp_path, capsys):
    import shutil

    import psycopg

    from carts.models import Discount
    from commerce.accounts.tests.factories import UserFactory

    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore are not installed (apt-get install postgresql-client)")
    for _ in range(3):
        UserFactory()
    call_command("load_demo_extras", verbosity=0)
    url = _database_url()

    assert pg_backup_check.check(url, dump_dir=tmp_path, keep_scratch=False) == 0

    out = capsys.readouterr().out
    assert "ok       public.accounts_user: 3" in out
    assert f"ok       public.carts_discount: {Discount.objects.count()}" in out
    assert "restore verified" in out and len(list(tmp_path.glob("*.dump"))) == 1
    with psycopg.connect(pg_backup_check.with_database(url, "postgres")) as admin:
        scratch = f"{pg_backup_check.database_name(url)}_restore_check"
        assert not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [scratch]).fetchone()


def test_every_alert_links_a_section_of_the_runbook():
    alerts = yaml.safe_load((BASE / "deploy/prometheus-alerts.yml").read_text())
    runbook = (BASE / "docs/operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", runbook, flags=re.MULTILINE)
    }
    for group in alerts["groups"]:
        for rule in group["rules"]:
            path, _, anchor = rule["annotations"]["runbook"].partition("#")
            assert path == "docs/operations.md" and anchor in anchors, rule["alert"]
    # The faults helper fills these two sections (issue 15 items 1 and 3).
    assert "\n## Faults and recovery\n" in runbook and "\n## Logs\n" in runbook


def test_retired_secret_keys_are_read_from_the_environment_for_a_rotation():
    script = "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)"
    env = {**os.environ, "SECRET_KEY": "new-key", "SECRET_KEY_FALLBACKS": "old-key-1,old-key-2"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        env={**env, "DJANGO_SETTINGS_MODULE": "commerce.settings"},
        cwd=BASE,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "['old-key-1', 'old-key-2']"


def test_a_session_signed_with_the_retired_key_still_opens(settings):
    from django.core import signing

    settings.SECRET_KEY = "retired-key-for-the-test-0123456789"
    token = signing.dumps({"cart": 1})
    settings.SECRET_KEY = "current-key-for-the-test-0123456789"
    with pytest.raises(signing.BadSignature):
        signing.loads(token)
    settings.SECRET_KEY_FALLBACKS = ["retired-key-for-the-test-0123456789"]
    assert signing.loads(token) == {"cart": 1}


@pytest.mark.django_db
def test_health_remembers_the_broker_and_channel_layer_answers_for_a_few_seconds(
    client, settings, monkeypatch
):
    """A balancer polling /health asks the broker and the layer once per HEALTH_CHECK_CACHE_SECONDS per
    process; the database and the cache on every call."""
    from commerce import health

    settings.HEALTH_CHECK_CACHE_SECONDS = 5
    clock = [1000.0]
    asked = {"celery": 0, "channelLayer": 0, "database": 0}

    def counted(name, answer):
        def check():
            asked[name] += 1
            return answer

        return check

    monkeypatch.setattr(health, "_clock", lambda: clock[0])
    monkeypatch.setattr(health, "_remembered", {})
    monkeypatch.setattr(health, "_check_celery", counted("celery", "ok"))
    monkeypatch.setattr(health, "_check_channel_layer", counted("channelLayer", "ok"))
    monkeypatch.setattr(health, "_check_database", counted("database", "ok"))
    for _ in range(3):
        assert client.get("/health").json()["checks"]["celery"] == "ok"
    assert asked == {"celery": 1, "channelLayer": 1, "database": 3}

    monkeypatch.setattr(health, "_check_celery", counted("celery", "down"))
    clock[0] += 4.9
    assert client.get("/health").status_code == 200  # still remembered
    clock[0] += 0.2
    answer = client.get("/health")
    assert answer.status_code == 503 and answer.json()["failed"] == ["celery"]
    assert asked["celery"] == 2 and asked["channelLayer"] == 2

    settings.HEALTH_CHECK_CACHE_SECONDS = 0
    client.get("/health")
    client.get("/health")
    assert asked["celery"] == 4
