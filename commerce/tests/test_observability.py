"""Metrics that are true, and what an operator watches them with.

- Under gunicorn with several workers, every scrape of /metrics reports the sum over all workers
  (prometheus_client's multiprocess mode, deploy/gunicorn.conf.py), tested against a real gunicorn.
- The Celery worker's exporter serves the same text, behind METRICS_TOKEN, started by the worker signal.
- The Grafana dashboards are what deploy/grafana/build_dashboards.py builds, pass the checks Grafana's
  file provisioning makes, and read the provisioned data source; every query and alert rule parses as
  PromQL and names only metrics the store exports.
- docker-compose scrapes web, ws and the worker with the token, loads the alert rules and provisions
  Grafana.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import promql_parser
import pytest
import yaml
from django.conf import settings
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from commerce import metrics as commerce_metrics

BASE = Path(settings.BASE_DIR)
DEPLOY = BASE / "deploy"
DASHBOARDS = DEPLOY / "grafana" / "dashboards"
GUNICORN_PORT = 8121
EXPORTER_PORTS = (8122, 8123)
sys.path.insert(0, str(DEPLOY / "grafana"))
import build_dashboards  # noqa: E402  (deploy/grafana/build_dashboards.py)


def _get(url: str, token: str = "") -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, ""


def _value(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


# --- multiprocess mode under gunicorn --------------------------------------------------------------
@pytest.fixture
def gunicorn(tmp_path):
    """A real gunicorn (2 workers, deploy/gunicorn.conf.py) on the embedded settings, in multiprocess mode."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR"}
    }
    log = tmp_path / "gunicorn.log"
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    (multiproc / "stale_counter_1.db").write_text("from a previous run")
    env.update(
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
        GUNICORN_BIND=f"127.0.0.1:{GUNICORN_PORT}",
        GUNICORN_WORKERS="2",
        SECRET_KEY="gunicorn-test-only",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        DJANGO_SETTINGS_MODULE="commerce.settings",
    )
    process = subprocess.Popen(  # noqa: S603  (fixed arguments)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(DEPLOY / "gunicorn.conf.py"),
            "commerce.wsgi:application",
        ],
        cwd=BASE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),  # a file, not a pipe: a full pipe would stall the server
    )
    url = f"http://127.0.0.1:{GUNICORN_PORT}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if _get(f"{url}/metrics")[0] == 200 and len(_pids(multiproc)) >= 2:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            process.terminate()
            process.wait(timeout=30)
            pytest.fail("gunicorn did not start: " + log.read_text()[-2000:])
        yield url, multiproc
    finally:
        process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        process.wait(timeout=30)


def _pids(multiproc: Path) -> set[str]:
    """The processes that wrote metric files (``counter_<pid>.db``, ...)."""
    return {path.stem.rsplit("_", 1)[-1] for path in multiproc.glob("*.db")}


REPORT = json.dumps({"csp-report": {"effective-directive": "img-src"}}).encode()


def _csp_report(url: str) -> int:
    request = urllib.request.Request(
        f"{url}/csp-report/", data=REPORT, headers={"Content-Type": "application/csp-report"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def test_every_scrape_under_gunicorn_sums_the_counts_of_all_workers(gunicorn):
    url, multiproc = gunicorn
    assert not (multiproc / "stale_counter_1.db").exists()  # emptied when gunicorn started
    # One worker is kept busy with a report whose body has not arrived yet, so the other worker counts
    # the next ten; then the first one gets its body and counts one: two processes, eleven reports.
    with socket.create_connection(("127.0.0.1", GUNICORN_PORT), timeout=60) as held:
        held.sendall(
            b"POST /csp-report/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/csp-report\r\n"
            + f"Content-Length: {len(REPORT)}\r\nConnection: close\r\n\r\n".encode()
        )
        time.sleep(1)  # a worker has taken the connection and waits for the body
        with ThreadPoolExecutor(max_workers=2) as pool:
            assert set(pool.map(lambda _: _csp_report(url), range(10))) == {204}
        held.sendall(REPORT)
        assert held.recv(64).startswith(b"HTTP/1.1 204")
    reports = 11

    from prometheus_client import mmap_dict

    per_process = []
    for path in multiproc.glob("counter_*.db"):
        counted = sum(
            value
            for key, value, _timestamp, _pos in mmap_dict.MmapedDict.read_all_values_from_file(str(path))
            if '"commerce_security_events_total"' in key and "csp_report" in key
        )
        if counted:
            per_process.append(counted)
    assert sorted(per_process) == [1, 10]
    for _ in range(4):  # whichever worker answers, the scrape says eleven
        status, text = _get(f"{url}/metrics")
        assert status == 200
        assert _value(text, "commerce_security_events_total", kind="csp_report") == reports
        assert _value(text, "csp_violation_reports_total", directive="img-src") == reports


# --- the Celery worker's exporter ------------------------------------------------------------------
def test_the_worker_exporter_starts_on_worker_ready_and_answers_only_the_token(settings):
    from celery.signals import worker_ready

    settings.CELERY_METRICS_PORT = EXPORTER_PORTS[0]
    settings.METRICS_TOKEN = "worker-scrape-token"
    commerce_metrics.WORKER_EXPORTERS.clear()
    worker_ready.send(sender=None)
    try:
        assert len(commerce_metrics.WORKER_EXPORTERS) == 1
        url = f"http://127.0.0.1:{EXPORTER_PORTS[0]}"
        assert _get(f"{url}/metrics")[0] == 403
        assert _get(f"{url}/metrics", "wrong")[0] == 403
        assert _get(f"{url}/elsewhere", "worker-scrape-token")[0] == 404
        assert _get(f"{url}/health/live") == (200, '{"status": "ok"}')  # liveness: no token needed
        status, text = _get(f"{url}/metrics", "worker-scrape-token")
        assert status == 200 and "commerce_security_events" in text
    finally:
        for server in commerce_metrics.WORKER_EXPORTERS:
            server.shutdown()
            server.server_close()
        commerce_metrics.WORKER_EXPORTERS.clear()


def test_no_exporter_starts_without_a_port(settings):
    from celery.signals import worker_ready

    settings.CELERY_METRICS_PORT = 0
    commerce_metrics.WORKER_EXPORTERS.clear()
    worker_ready.send(sender=None)
    assert commerce_metrics.WORKER_EXPORTERS == []


# --- Grafana dashboards ----------------------------------------------------------------------------
# What Grafana's file provisioning needs of a dashboard to load it, and the store's own rules (every
# panel on the provisioned Prometheus data source). Grafana 11 reads schemaVersion >= 16 and migrates.
PANEL_TYPES = ["timeseries", "stat", "gauge", "bargauge", "table", "text", "heatmap", "piechart", "row"]
DASHBOARD_SCHEMA = {
    "type": "object",
    "required": ["uid", "title", "schemaVersion", "panels", "time", "annotations", "templating"],
    "not": {"anyOf": [{"required": ["id"]}]},  # an id would clash with Grafana's own
    "properties": {
        "uid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
        "title": {"type": "string", "minLength": 1},
        "schemaVersion": {"type": "integer", "minimum": 16},
        "editable": {"const": False},
        "time": {
            "type": "object",
            "required": ["from", "to"],
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
        },
        "annotations": {"type": "object", "required": ["list"], "properties": {"list": {"type": "array"}}},
        "templating": {"type": "object", "required": ["list"], "properties": {"list": {"type": "array"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "panels": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["type", "title", "gridPos", "datasource", "targets"],
                "properties": {
                    "type": {"enum": PANEL_TYPES},
                    "title": {"type": "string", "minLength": 1},
                    "gridPos": {
                        "type": "object",
                        "required": ["h", "w", "x", "y"],
                        "properties": {
                            "h": {"type": "integer", "minimum": 1},
                            "w": {"type": "integer", "minimum": 1, "maximum": 24},
                            "x": {"type": "integer", "minimum": 0, "maximum": 23},
                            "y": {"type": "integer", "minimum": 0},
                        },
                    },
                    "datasource": {"const": {"type": "prometheus", "uid": "prometheus"}},
                    "options": {"type": "object"},
                    "targets": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["expr", "refId"],
                            "properties": {
                                "expr": {"type": "string", "minLength": 1},
                                "refId": {"type": "string", "pattern": "^[A-Z]$"},
                            },
                        },
                    },
                },
            },
        },
    },
}


def _dashboards() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def test_there_are_shop_assistant_voice_and_infrastructure_dashboards_as_built():
    assert set(_dashboards()) == {"shop", "assistant", "voice", "infrastructure"}
    for name in build_dashboards.DASHBOARDS:
        committed = (DASHBOARDS / f"{name}.json").read_text()
        assert committed == build_dashboards.render(name), f"run `make dashboards` ({name}.json is stale)"


def test_the_dashboards_pass_grafanas_provisioning_checks():
    from grafana_foundation_sdk.models.dashboard import Dashboard

    uids = []
    for name, model in _dashboards().items():
        jsonschema.validate(model, DASHBOARD_SCHEMA)
        uids.append(model["uid"])
        for panel in model["panels"]:
            box = panel["gridPos"]
            assert box["x"] + box["w"] <= 24, f"{name}: {panel['title']} overflows the grid"
            ref_ids = [target["refId"] for target in panel["targets"]]
            assert len(ref_ids) == len(set(ref_ids)), f"{name}: {panel['title']} repeats a refId"
        # Grafana's own model (the SDK's types) reads it back without losing or changing anything.
        assert Dashboard.from_json(model).title == model["title"]
    assert len(uids) == len(set(uids))


def test_a_broken_dashboard_fails_the_schema():
    model = _dashboards()["shop"]
    model["panels"][0]["gridPos"]["w"] = 30
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(model, DASHBOARD_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**_dashboards()["voice"], "id": 7}, DASHBOARD_SCHEMA)


def test_grafana_is_provisioned_with_the_data_source_and_the_dashboards():
    datasources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert (
        datasources["datasources"][0] | {"uid": "prometheus", "url": "http://prometheus:9090"}
        == (datasources["datasources"][0])
    )
    providers = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/commerce.yml").read_text())
    compose = yaml.safe_load((BASE / "docker-compose.yml").read_text())["services"]["grafana"]
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in compose["volumes"]}
    assert mounted[providers["providers"][0]["options"]["path"]] == "./deploy/grafana/dashboards"
    assert mounted["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    assert compose["ports"] == ["127.0.0.1:3000:3000"]
    assert compose["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")


# --- PromQL: dashboards and alert rules ------------------------------------------------------------
ALERTS = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text())
# Metrics the store's code does not define: Prometheus' own `up`, and the outbox's lag gauge (built in
# commerce/outbox, issue 15 item 1).
EXTERNAL_METRICS = {"up", "commerce_outbox_oldest_unpublished_seconds"}
METRIC_NAME = re.compile(r"\b((?:django|commerce)_[a-z0-9_]+|up)\b")


def _rules() -> dict[str, dict]:
    return {rule["alert"]: rule for group in ALERTS["groups"] for rule in group["rules"]}


def _queries() -> list[str]:
    exprs = [rule["expr"] for rule in _rules().values()]
    for model in _dashboards().values():
        exprs += [target["expr"] for panel in model["panels"] for target in panel["targets"]]
    return exprs


def _exported_names() -> set[str]:
    # Registering django-prometheus's cache and database metrics as the Redis/PostgreSQL run does.
    import django_prometheus.cache.metrics  # noqa: F401
    import django_prometheus.db.metrics  # noqa: F401
    from django_prometheus.middleware import Metrics

    Metrics.get_instance()  # the request metrics, registered when the middleware first runs

    names = set(REGISTRY._names_to_collectors)  # every sample name of every registered metric
    return names | set(commerce_metrics.SCRAPE_GAUGES._gauges) | EXTERNAL_METRICS


def test_every_query_parses_and_names_only_metrics_the_store_exports():
    exported = _exported_names()
    for expr in _queries():
        promql_parser.parse(expr)
        for name in METRIC_NAME.findall(expr):
            if name.startswith(("django_", "commerce_")) or name == "up":
                assert name in exported, f"{name} (in {expr!r}) is not exported"


def test_promql_that_does_not_parse_is_caught():
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(commerce_checkouts_total[5m])")


def test_the_alert_rules_cover_errors_latency_checkout_llm_voice_backlog_and_outbox():
    rules = _rules()
    assert {
        "HighServerErrorRate",
        "SlowResponses",
        "CheckoutErrors",
        "CheckoutFailureRatio",
        "LLMBreakerOpen",
        "VoiceFailureRatio",
        "CeleryBacklog",
        "OutboxLag",
    } <= set(rules)
    assert "commerce_outbox_oldest_unpublished_seconds" in rules["OutboxLag"]["expr"]
    for rule in rules.values():
        assert rule["annotations"]["summary"] and rule["annotations"]["runbook"].startswith(
            "docs/operations.md"
        )


def test_prometheus_scrapes_web_ws_and_worker_with_the_token_and_loads_the_rules():
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {name: job["static_configs"][0]["targets"] for name, job in jobs.items()}
    assert targets == {
        "commerce-web": ["web:8000"],
        "commerce-ws": ["ws:8001"],
        "commerce-worker": ["worker:9808"],
    }
    for job in jobs.values():
        assert job["authorization"]["credentials_file"] == "/prometheus/metrics_token"
    services = yaml.safe_load((BASE / "docker-compose.yml").read_text())["services"]
    rules_mount = next(v for v in services["prometheus"]["volumes"] if "alerts" in v)
    assert rules_mount.split(":")[1] in config["rule_files"]
    assert services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert "deploy/gunicorn.conf.py" in services["web"]["command"]
    assert services["worker"]["environment"]["CELERY_METRICS_PORT"] == "9808"
    assert services["worker"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
