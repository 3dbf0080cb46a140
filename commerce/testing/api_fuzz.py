"""``make api-fuzz``: schemathesis against a started site, every check on; it must find nothing.

A scratch database (PostgreSQL ``<DATABASE_URL's name>_apifuzz``, or a SQLite file when no
DATABASE_URL is set) gets the migrations, the demo catalog, discount codes and store policies. gunicorn
serves the site on a free loopback port. A shopper registers through the API, fills a cart, places an
order and opens a ticket, so the list operations return real ids; schemathesis then runs every phase
(examples, coverage, fuzzing, and the stateful phase that follows the schema's OpenAPI links) with
that shopper's access token on every request (its ``ignored_auth`` check also sends each signed-in
operation without it). Exit status: schemathesis's own (0 = nothing found), which makes this a CI gate
(`.ci/run`'s second pass; commerce/tests/test_api_fuzz.py shows a finding exits non-zero).

    python -m commerce.testing.api_fuzz [--max-examples N] [--seed S] [--port P] [-- schemathesis args]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from benchmarks.common import (
    LOOPBACK,
    ROOT,
    create_database,
    database_url_for,
    drop_database,
    free_port,
    running_server,
)

CONFIG = Path(__file__).with_name("schemathesis.toml")
DEMO_CATALOG = ROOT / "catalog" / "demo" / "demo_catalog.json"
# Cases per operation and phase: 44 operations x 4 phases take about 100 s of fuzzing on 2 shared cores
# (about 3 minutes with migrating and seeding); a lower value keeps every operation and check.
DEFAULT_MAX_EXAMPLES = 20
# A fixed seed makes CI's run repeatable; pass another (or API_FUZZ_SEED) to explore further.
DEFAULT_SEED = 20261204


def _scratch_database(workdir: Path) -> tuple[dict[str, str], str | None]:
    """Environment naming the scratch database, and the PostgreSQL database to drop afterwards."""
    base_url = os.environ.get("DATABASE_URL", "").strip()
    if not base_url:
        return {"SQLITE_PATH": str(workdir / "api_fuzz.sqlite3")}, None
    name = f"{urlsplit(base_url).path.lstrip('/') or 'commerce'}_apifuzz"
    create_database(base_url, name)
    return {"DATABASE_URL": database_url_for(base_url, name)}, name


def _server_env(database_env: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        **database_env,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "commerce.settings",
        # A plain-HTTP rig on loopback (CONTRACT.md section 6 names these switches).
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        # One client sends a few thousand requests: the rate limits stay on (their code runs and 429 is
        # documented) but high enough that the operations themselves are what gets exercised.
        "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "100000",
        "RATE_LIMIT_AUTHENTICATED_PER_MINUTE": "100000",
        "ACCESS_TOKEN_TTL_SECONDS": "3600",
        # Every wrong password comes from 127.0.0.1; the address lock would lock the fuzzer's own sign-in.
        "LOGIN_FAILURE_LIMIT": "100000",
        # No worker runs beside this server: tasks handed over in a request run in it.
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    env.setdefault("SECRET_KEY", "api-fuzz-only-" + secrets.token_hex(16))
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def _seed(env: dict[str, str]) -> None:
    _manage(env, "migrate", "--noinput")
    _manage(env, "load_catalog", str(DEMO_CATALOG))
    _manage(env, "load_demo_extras")
    _manage(env, "load_store_policies")


def _call(base: str, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
    response = httpx.request(method, base + path, json=body, headers=headers or {}, timeout=30)
    if response.is_error:
        raise SystemExit(
            f"seeding the shopper: {method} {path} -> {response.status_code} {response.text[:500]}"
        )
    return response.json() if response.content else {}


def _signed_in_shopper(base: str, email: str, password: str) -> None:
    """Registers the shopper schemathesis signs in as, with a cart line, an order and a ticket."""
    auth = _call(
        base, "POST", "/api/v1/auth/register", {"email": email, "password": password, "name": "Fuzz"}
    )
    bearer = {"Authorization": f"Bearer {auth['accessToken']}"}
    product = _call(base, "GET", "/api/v1/products?inStock=true&limit=1")["items"][0]
    variant = next(v for v in product["variants"] if v["inStock"])
    _call(
        base,
        "POST",
        "/api/v1/cart/items",
        {"productId": product["id"], "variantId": variant["id"], "quantity": 1},
        bearer,
    )
    address = {
        "name": "Fuzz Shopper",
        "line1": "1 Main St",
        "city": "Springfield",
        "postalCode": "12345",
        "country": "US",
    }
    order = _call(
        base,
        "POST",
        "/api/v1/orders",
        {
            "shippingAddress": {**address, "country": "US"},
            "paymentMethod": {"type": "card", "token": "pm_test_visa"},
        },
        {**bearer, "Idempotency-Key": secrets.token_hex(8)},
    )
    _call(
        base,
        "POST",
        "/api/v1/support/tickets",
        {"subject": "Where is my parcel?", "message": "It has not arrived.", "orderId": order["id"]},
        bearer,
    )


def _schemathesis(base: str, shopper: dict[str, str], args: argparse.Namespace, report_dir: Path) -> int:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/api/schema/",
        "--checks",
        "all",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        "1",
        "--report",
        "ndjson",
        "--report-dir",
        str(report_dir),
        *args.schemathesis_args,
    ]
    started = time.monotonic()
    # Run from the scratch directory: schemathesis keeps its cache of past failures there, not in the
    # repository, so every run (CI's too) is the same run.
    code = subprocess.run(
        command, cwd=report_dir.parent, env={**os.environ, **shopper}, check=False
    ).returncode
    print(f"api-fuzz: {_case_count(report_dir)} cases in {time.monotonic() - started:.0f} s, exit {code}")
    return code


def _case_count(report_dir: Path) -> str:
    """How many cases schemathesis generated, read from its ndjson event log."""
    total = 0
    for report in report_dir.glob("*.ndjson"):
        for line in report.read_text().splitlines():
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if finished:
                total += len(finished.get("recorder", {}).get("cases", {}))
    return str(total) if total else "an unknown number of"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-examples", type=int, default=int(os.environ.get("API_FUZZ_MAX_EXAMPLES", DEFAULT_MAX_EXAMPLES))
    )
    parser.add_argument("--seed", type=int, default=int(os.environ.get("API_FUZZ_SEED", DEFAULT_SEED)))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("API_FUZZ_PORT", 0)), help="0: any free port"
    )
    parser.add_argument("schemathesis_args", nargs="*", help="passed on to `schemathesis run` (after --)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="api-fuzz-") as tmp:
        workdir = Path(tmp)
        database_env, database_name = _scratch_database(workdir)
        try:
            env = _server_env(database_env)
            _seed(env)
            port = args.port or free_port()
            command = [
                str(Path(sys.executable).parent / "gunicorn"),
                "commerce.wsgi:application",
                "--bind",
                f"{LOOPBACK}:{port}",
                "--workers",
                "2",
            ]
            with running_server(
                "gunicorn", command, port=port, env=env, log_dir=workdir, ready_path="/health"
            ) as server:
                base = f"http://{LOOPBACK}:{server.port}"
                shopper = {
                    "API_FUZZ_EMAIL": "fuzz-shopper@example.com",
                    "API_FUZZ_PASSWORD": secrets.token_urlsafe(18),
                }
                _signed_in_shopper(base, shopper["API_FUZZ_EMAIL"], shopper["API_FUZZ_PASSWORD"])
                code = _schemathesis(base, shopper, args, workdir / "report")
            if code:
                print(f"server log (last lines):\n{(workdir / 'gunicorn.log').read_text()[-3000:]}")
            return code
        finally:
            if database_name:
                drop_database(os.environ["DATABASE_URL"], database_name)


if __name__ == "__main__":
    sys.exit(main())
