"""The production shape as an operator runs it: the compose file's one-shot loaders and health checks,
and the container health-check script against a real server."""

from __future__ import annotations

import re
import shlex
import socket
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
    assert services["web"]["healthcheck"]["test"][-1] == "http://127.0.0.1:8000/health"
    assert services["ws"]["healthcheck"]["test"][-1] == "http://127.0.0.1:8001/health"
    assert "inspect ping" in services["worker"]["healthcheck"]["test"][-1]


@pytest.mark.django_db(transaction=True)
def test_the_health_check_script_passes_a_live_site_and_fails_a_closed_port(live_server, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "web"]  # the Host the script sends
    assert healthcheck.healthy(f"{live_server.url}/health")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    assert not healthcheck.healthy(f"http://127.0.0.1:{closed_port}/health")
