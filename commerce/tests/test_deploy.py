"""Deployment defaults through ``manage.py`` in a fresh process (issue 12, docs/security.md).

The settings are read once per process from the environment, so each case starts its own: the
``.env.example`` copied as it is, the production shape with its secure defaults, each default switched
off by its Django name, and ``check --deploy`` (in CI's PostgreSQL pass, against its real database URL).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import environ
import pytest
from django.conf import settings

ENV_EXAMPLE = Path(settings.BASE_DIR) / ".env.example"
SECURE_NAMES = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_REDIRECT_EXEMPT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "EMBEDDED",
)
PRINT_SETTINGS = (
    "import json; from django.conf import settings as s; "
    f"print(json.dumps({{name: getattr(s, name) for name in {SECURE_NAMES!r}}}))"
)
# A database URL that is never connected to: reading settings and `check` need no database.
UNREACHED_POSTGRES = "postgres://commerce:unused@127.0.0.1:1/commerce"


def _env_example() -> dict[str, str]:
    """.env.example as django-environ reads a .env file (the same parser settings.py uses)."""

    class Parsed(environ.Env):
        ENVIRON: dict[str, str] = {}

    Parsed.read_env(str(ENV_EXAMPLE))
    return dict(Parsed.ENVIRON)


def _manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    # Only what the test gives, plus a private SQLite path: nothing of this shell leaks into the settings.
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**base, "SQLITE_PATH": str(tmp_path / "db.sqlite3"), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _settings_of(env: dict[str, str], tmp_path: Path) -> dict:
    done = _manage("shell", "-c", PRINT_SETTINGS, env=env, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _production_env() -> dict[str, str]:
    return {
        **_env_example(),
        "DATABASE_URL": UNREACHED_POSTGRES,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "shop.example",
    }


def test_env_example_has_only_comment_lines_and_plain_values(caplog):
    parsed = _env_example()
    assert "Invalid line" not in caplog.text
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "METRICS_TOKEN", "POSTGRES_PASSWORD"} <= parsed.keys()
    for name, value in parsed.items():
        assert "#" not in value, f"{name} carries a comment in its value: {value!r}"
        assert value == value.strip(), f"{name} has surrounding spaces: {value!r}"
    # Empty means "unset" for the URLs (the embedded run), and the secure defaults are not overridden.
    assert parsed["DATABASE_URL"] == "" and parsed["REDIS_URL"] == ""
    assert not {"SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"} & parsed.keys()


def test_the_site_starts_from_env_example_copied_as_is(tmp_path):
    env = _env_example()
    done = _manage("check", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert _settings_of(env, tmp_path)["EMBEDDED"] is True


def test_the_production_shape_has_the_secure_defaults_on(tmp_path):
    values = _settings_of(_production_env(), tmp_path)
    assert values["EMBEDDED"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_REDIRECT_EXEMPT"] == ["^health$", "^health/live$", "^metrics$"]


def test_a_plain_http_rig_switches_each_default_off_by_its_django_name(tmp_path):
    switched = {
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_PROXY_SSL_HEADER": "false",
    }
    values = _settings_of({**_production_env(), **switched}, tmp_path)
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_an_empty_line_in_an_old_env_file_keeps_the_secure_defaults(tmp_path):
    emptied = {name: "" for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE")}
    values = _settings_of({**_production_env(), **emptied, "CSRF_COOKIE_SECURE": "  "}, tmp_path)
    assert values["SECURE_SSL_REDIRECT"] is True and values["SECURE_HSTS_SECONDS"] == 31_536_000
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True


def test_the_embedded_run_keeps_plain_http(tmp_path):
    values = _settings_of({}, tmp_path)
    assert values["EMBEDDED"] is True
    assert values["SECURE_SSL_REDIRECT"] is False and values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False and values["SECURE_PROXY_SSL_HEADER"] is None


@pytest.mark.postgres
def test_check_deploy_is_clean_under_production_settings(tmp_path):
    env = {**_production_env(), "DATABASE_URL": os.environ["DATABASE_URL"]}
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    done = _manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


# --- The deployment files (deploy/, docker-compose.yml, .dockerignore), read as the tools read them.

DEPLOY = Path(settings.BASE_DIR) / "deploy"


def _nginx_servers() -> list[str]:
    text = (DEPLOY / "nginx.conf").read_text()
    return [block for block in text.split("server {")[1:]]


def test_nginx_logs_paths_without_query_strings():
    text = (DEPLOY / "nginx.conf").read_text()
    log_format = text[text.index("log_format") : text.index(";", text.index("log_format"))]
    assert "$uri" in log_format
    for leaky in ("$request_uri", "$args", "$query_string", "$request ", "$http_referer"):
        assert leaky not in log_format, leaky
    assert "access_log /var/log/nginx/access.log noquery;" in text


def test_nginx_redirects_http_to_https_and_serves_tls_without_public_metrics():
    plain, tls = _nginx_servers()
    assert "listen 80;" in plain and "return 301 https://$host$request_uri;" in plain
    assert "proxy_pass" not in plain
    assert "listen 443 ssl;" in tls and "ssl_certificate " in tls and "ssl_certificate_key " in tls
    assert "location ^~ /metrics {\n        return 404;" in tls
    assert tls.count("proxy_set_header X-Forwarded-Proto $scheme;") == 3  # pages, the socket, /mcp
    # the MCP server is part of the ASGI application: Daphne serves it, its event streams unbuffered
    mcp = tls[tls.index("location = /mcp {") :]
    mcp = mcp[: mcp.index("}")]
    assert "proxy_pass http://ws;" in mcp and "proxy_buffering off;" in mcp


def test_compose_creates_no_demo_admin_and_keeps_no_secret():
    import yaml

    text = (Path(settings.BASE_DIR) / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    assert "ensure_demo_admin" not in text
    postgres_env = compose["services"]["postgres"]["environment"]
    assert postgres_env["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "${REDIS_PASSWORD:?" in compose["services"]["redis"]["environment"]["REDISCLI_AUTH"]
    assert "--requirepass" in " ".join(compose["services"]["redis"]["command"])
    web_env = compose["services"]["web"]["environment"]
    assert "${POSTGRES_PASSWORD:?" in web_env["DATABASE_URL"] and "${REDIS_PASSWORD:?" in web_env["REDIS_URL"]
    assert "SESSION_COOKIE_SECURE" not in text  # the secure defaults stay on behind the TLS proxy
    assert compose["services"]["prometheus"]["ports"] == ["127.0.0.1:9090:9090"]


def test_the_image_leaves_out_secrets_and_local_state():
    ignored = (Path(settings.BASE_DIR) / ".dockerignore").read_text().split()
    for entry in (".env", "var/", ".git", ".venv/", "**/__pycache__/", "test-artifacts/"):
        assert entry in ignored, entry
    assert "!.env.example" in ignored
