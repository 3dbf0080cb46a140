"""Listing benchmark: how fast the product listing and the products API answer on a 20,000-product catalog.

What it does (``make bench-listing``; see docs/benchmarks.md):

1. creates a throw-away PostgreSQL database (``commerce_bench`` on the server of ``DATABASE_URL``),
   migrates it and loads a generated catalog through the real importer (``catalog_import``);
2. counts the SQL queries of one listing page and one API page at page sizes 12, 24 and 48, and of
   the listing page in "recommended for you" order for a signed-in shopper with memory (in-process,
   ``CaptureQueriesContext``): no count may grow with the page size; and times that signed-in page
   in process, plain and recommended;
3. serves the site under gunicorn (WSGI, 2 sync workers) and then under Daphne (ASGI, one process) on
   a free loopback port and, for five typical searches, measures requests per second and p50/p95
   latency of ``/products/?...`` and ``/api/v1/products?...``, next to ``/bench/ping`` (a bare view
   with one small query) on the same server in the same run. The ratio to the bare view is the
   figure to compare across machines; the absolute numbers depend on the machine and on the load
   generator sharing its cores.
4. drops the database (``--keep-db`` keeps it, and a later ``--keep-db`` run reuses it).

Exit status 1 when any request failed or the query count grows with the page size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    BENCH_SETTINGS,
    ISSUE_MAX_VARIANTS,
    LOOPBACK,
    ROOT,
    LoadResult,
    bench_database_name,
    create_database,
    database_exists,
    database_url_for,
    drop_database,
    free_port,
    generated_catalog,
    run_load,
    running_server,
)

BENCH_DB_SUFFIX = "listing_bench"
RESULTS_DIR = ROOT / "benchmarks" / "results"
PAGE_SIZES = (12, 24, 48)
BARE_PATH = "/bench/ping"
# The yardstick every row is divided by (the issue's): the health check, one database round trip plus
# the cache and channel-layer checks, through the same middleware.
YARDSTICK_PATH = "/health"
PRODUCT_PAGES = 24  # product pages cycled through by the product-page rows
# Fewer samples than this make a p95 meaningless; slow endpoints run longer to reach it.
MIN_SAMPLES = 40
SHOPPER_EMAIL = "listing-bench@example.com"


@dataclass(frozen=True)
class Scenario:
    name: str
    page: str  # listing page query string (form names)
    api: str  # API query string (contract names)


SCENARIOS = [
    Scenario("running shoes", "q=running+shoes", "query=running+shoes"),
    Scenario("hoodie, brand Northpeak", "q=hoodie&brand=Northpeak", "query=hoodie&brand=Northpeak"),
    Scenario(
        "running shoes category, size 10, $80-150",
        "category=running-shoes&size=10&min_price=80&max_price=150",
        "category=running-shoes&size=10&minPrice=80&maxPrice=150",
    ),
    Scenario("denim by price", "q=denim&sort=price_asc", "query=denim&sort=price_asc"),
    Scenario("typo: runing shoes", "q=runing+shoes", "query=runing+shoes"),
]


def page_path(scenario: Scenario) -> str:
    return f"/products/?{scenario.page}"


def recommended_path(scenario: Scenario) -> str:
    return f"/products/?{scenario.page}&sort=recommended"


def api_path(scenario: Scenario, limit: int = 24) -> str:
    # 24 per page, like the listing, so the two do the same amount of work.
    return f"/api/v1/products?{scenario.api}&limit={limit}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000, help="catalog size (default 20000)")
    parser.add_argument(
        "--max-variants",
        type=int,
        default=ISSUE_MAX_VARIANTS,
        help=f"variants kept per product (default {ISSUE_MAX_VARIANTS}: ~144,000 for 20,000 products, the "
        "issue's shape; 0: all the generator makes, ~400,000)",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=16, help="clients in flight (default 16)")
    parser.add_argument("--servers", default="gunicorn", help="comma-separated: gunicorn,daphne")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--quick", action="store_true", help="2,000 products and 1.5 s per scenario: a check that it works"
    )
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="keep the <name>_listing_bench database afterwards, and reuse it if it holds the catalog",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.products = min(args.products, 2_000)
        args.seconds = min(args.seconds, 1.5)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(args.servers) - {"gunicorn", "daphne"}
    if unknown:
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    return args


def setup_django(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = BENCH_SETTINGS
    os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["SECURE_SSL_REDIRECT"] = "false"  # the test client below speaks plain HTTP
    import django

    django.setup()


def catalog_ready(expected_products: int, max_variants: int) -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from catalog.models import Product

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return False
    if Product.objects.count() != expected_products:
        return False
    from django.db.models import Count, Max

    from catalog.models import Variant

    most = Variant.objects.values("product").annotate(n=Count("id")).aggregate(most=Max("n"))["most"] or 0
    return most <= max_variants if max_variants else most > ISSUE_MAX_VARIANTS


def load_catalog(count: int, max_variants: int) -> float:
    """Migrates and imports ``count`` generated products; returns the import's seconds."""
    from django.core.management import call_command

    from catalog.services import catalog_import

    call_command("migrate", verbosity=0)
    records = generated_catalog(count, max_variants=max_variants)
    variants = sum(len(r["variants"]) for r in records)
    print(f"importing {len(records)} products ({variants} variants) through catalog_import ...", flush=True)
    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 15 or done == total:
            last[0] = now
            print(f"  {done}/{total} products, {now - started:.0f} s", flush=True)

    catalog_import(records=records, progress=progress)
    seconds = time.perf_counter() - started
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics, as a long-running database would have
    return seconds


def remembering_shopper():
    """A signed-in shopper the store remembers: stated likes and a dislike, and 200 interactions."""
    import random

    from catalog.models import Product
    from commerce.accounts.models import User
    from memory.services import affinity_apply_signal, preferences_update

    user = User.objects.filter(email=SHOPPER_EMAIL).first()
    if user is not None:  # a kept database already has them
        return user
    user = User.objects.create_user(email=SHOPPER_EMAIL, password="bench-only-password")
    preferences_update(
        user=user,
        changes={
            "sizes": {"shoes": "10"},
            "brands": ["Northpeak"],
            "dislikedBrands": ["Stride"],
            "styles": ["trail"],
        },
    )
    rng = random.Random(5)
    ids = list(Product.objects.values_list("id", flat=True))
    for i in range(200):
        signal = rng.choices(["view", "cart_add", "purchase"], weights=[80, 15, 5])[0]
        affinity_apply_signal(
            user_id=user.pk, product_ids=[rng.choice(ids)], signal=signal, event_key=f"bench:{i}"
        )
    return user


def count_queries(shopper) -> dict[str, dict[int, int]]:
    """SQL queries of one listing page and one API page per page size, for a text search; and of the
    same listing page in "recommended for you" order for a signed-in shopper with memory."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import catalog.listing

    client = Client()
    member = Client()
    member.force_login(shopper)
    counts: dict[str, dict[int, int]] = {"page": {}, "api": {}, "recommended": {}}
    scenario = SCENARIOS[0]
    client.get(page_path(scenario))  # the first request fills per-process caches (content types ...)
    member.get(recommended_path(scenario))
    default_page_size = catalog.listing.PAGE_SIZE
    try:
        for size in PAGE_SIZES:
            # The page size is a constant of the listing pages; changing it in-process is the only way to ask.
            catalog.listing.PAGE_SIZE = size
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(page_path(scenario))
            assert response.status_code == 200, response.status_code
            counts["page"][size] = len(ctx.captured_queries)
            with CaptureQueriesContext(connection) as ctx:
                response = member.get(recommended_path(scenario))
            assert response.status_code == 200, response.status_code
            assert response.content.count(b'class="product-reason"'), "no card says why it is recommended"
            counts["recommended"][size] = len(ctx.captured_queries)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(api_path(scenario, limit=size))
            assert response.status_code == 200, response.status_code
            assert len(response.json()["items"]) == size, "too few results to fill the page"
            counts["api"][size] = len(ctx.captured_queries)
    finally:
        catalog.listing.PAGE_SIZE = default_page_size
    return counts


def time_recommended(shopper, runs: int = 15) -> dict[str, dict[str, float]]:
    """In-process p50/p95 ms of the signed-in listing page, plain and "recommended for you" order.

    The load test's clients are guests; this is the signed-in page's own cost (no HTTP, no queueing).
    """
    from django.test import Client

    member = Client()
    member.force_login(shopper)
    out: dict[str, dict[str, float]] = {}
    for scenario in (SCENARIOS[0], SCENARIOS[1]):
        for label, path in (("plain", page_path(scenario)), ("recommended", recommended_path(scenario))):
            member.get(path)  # warm
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                assert member.get(path).status_code == 200
                samples.append((time.perf_counter() - started) * 1000)
            q = statistics.quantiles(samples, n=20, method="inclusive")
            out[f"{scenario.name}, {label}"] = {"p50Ms": round(q[9], 1), "p95Ms": round(q[18], 1)}
    return out


def scenario_totals() -> dict[str, int]:
    """How many products each scenario finds (a benchmark of empty results would flatter the site)."""
    from django.test import Client

    client = Client()
    return {s.name: client.get(api_path(s, limit=1)).json()["total"] for s in SCENARIOS}


def server_command(kind: str, port: int, workers: int) -> list[str]:
    bin_dir = Path(sys.executable).parent
    if kind == "gunicorn":
        return [
            str(bin_dir / "gunicorn"),
            "commerce.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"{LOOPBACK}:{port}",
            "--log-level",
            "warning",
        ]
    return [str(bin_dir / "daphne"), "-b", LOOPBACK, "-p", str(port), "-v", "0", "commerce.asgi:application"]


def server_env(kind: str, bench_url: str) -> dict[str, str]:
    env = dict(os.environ)
    if kind == "daphne":
        # Under ASGI every request runs in a new context, so persistent connections are never
        # reused and pile up until PostgreSQL refuses clients ("too many clients already"):
        # Django's docs say to turn them off there. The production daphne must do the same.
        env["DB_CONN_MAX_AGE"] = "0"
    env.update(
        DATABASE_URL=bench_url,
        DJANGO_SETTINGS_MODULE=BENCH_SETTINGS,
        DJANGO_DEBUG="0",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        # The throttle still runs (its cache round trip is a real cost); it just never refuses.
        RATE_LIMIT_ANONYMOUS_PER_MINUTE="100000000",
        SECURE_SSL_REDIRECT="false",  # a plain-HTTP rig (README, Production checklist)
    )
    env.setdefault("SECRET_KEY", "benchmark-only-not-secret")
    return env


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def row(server: str, endpoint: str, scenario: str, result: LoadResult, yardstick_rps: float) -> dict:
    return {
        "server": server,
        "endpoint": endpoint,
        "scenario": scenario,
        "requests": result.requests,
        "errors": result.errors,
        "firstError": result.first_error,
        "rps": round(result.rps, 1),
        "p50Ms": round(result.percentile(50), 1),
        "p95Ms": round(result.percentile(95), 1),
        "ofHealth": round(result.rps / yardstick_rps, 3) if yardstick_rps else None,
    }


def _merged(first: LoadResult, second: LoadResult) -> LoadResult:
    return LoadResult(
        requests=first.requests + second.requests,
        errors=first.errors + second.errors,
        seconds=first.seconds + second.seconds,
        latencies_ms=sorted(first.latencies_ms + second.latencies_ms),
        first_error=first.first_error or second.first_error,
    )


def bench_server(
    kind: str, args: argparse.Namespace, bench_url: str, product_ids: list[int]
) -> tuple[list[dict], list[str]]:
    port = free_port()
    rows: list[dict] = []
    notes: list[str] = []
    name = f"gunicorn ({args.workers} workers)" if kind == "gunicorn" else "daphne (1 process)"
    print(f"\n{name} on {LOOPBACK}:{port}, load average {load_average()}", flush=True)
    with running_server(
        kind,
        server_command(kind, port, args.workers),
        port=port,
        env=server_env(kind, bench_url),
        log_dir=RESULTS_DIR,
        ready_path=BARE_PATH,
    ) as server:

        def measure(paths: list[str]) -> LoadResult:
            return run_load(
                server.port,
                paths,
                concurrency=args.concurrency,
                seconds=args.seconds,
                min_requests=MIN_SAMPLES,
                # One request per worker and path first: the measured ones find warm caches.
                warmup_requests=max(args.workers if kind == "gunicorn" else 1, len(paths)),
            )

        # The yardstick is measured first and last; their mean divides every row, and a big difference
        # between the two means the machine was busy with something else meanwhile.
        load_before = load_average()
        health_before = measure([YARDSTICK_PATH])
        results = [("bare", BARE_PATH, measure([BARE_PATH]))]
        for scenario in SCENARIOS:
            results.append(("page", scenario.name, measure([page_path(scenario)])))
            print(f"  page  {scenario.name}: {results[-1][2].rps:.1f} req/s", flush=True)
            results.append(("api", scenario.name, measure([api_path(scenario)])))
            print(f"  api   {scenario.name}: {results[-1][2].rps:.1f} req/s", flush=True)
        results.append(("page", "product page", measure([f"/products/{pk}/" for pk in product_ids])))
        results.append(("api", "product", measure([f"/api/v1/products/{pk}" for pk in product_ids])))
        health_after = measure([YARDSTICK_PATH])
        load_after = load_average()
        health_rps = statistics.mean([health_before.rps, health_after.rps])
        drift = abs(health_before.rps - health_after.rps) / health_rps if health_rps else 0
        notes.append(f"{name}: load average (1/5/15 min) {load_before} before, {load_after} after")
        if drift > 0.2:
            notes.append(
                f"{name}: /health ran at {health_before.rps:.0f} then {health_after.rps:.0f} req/s;"
                " the machine was busy, treat this server's figures with care"
            )
        health = _merged(health_before, health_after)
        rows.append(row(name, "yard", YARDSTICK_PATH, health, health_rps))
        rows += [row(name, endpoint, scenario, result, health_rps) for endpoint, scenario, result in results]
    return rows, notes


def print_report(report: dict) -> None:
    print("\n" + "=" * 100)
    print(
        f"Listing benchmark  {report['products']} products, {report['variants']} variants; "
        f"{report['concurrency']} clients, {report['seconds']} s per scenario; "
        f"{report['cpus']} CPUs; cache: {report['cache']}"
    )
    if report.get("importSeconds") is not None:
        rate = report["products"] / report["importSeconds"]
        print(f"Import: {report['importSeconds']:.0f} s through catalog_import ({rate:.0f} products/s)")
    print("\nResults per scenario (total = products found):")
    for name, total in report["totals"].items():
        print(f"  {name:<42} {total:>6}")
    print("\nSQL queries per request (must not grow with the page size):")
    print(f"  {'page size':>9}  {'listing page':>12}  {'API':>5}  {'recommended (signed in)':>23}")
    for size in PAGE_SIZES:
        q = report["queries"]
        print(f"  {size:>9}  {q['page'][size]:>12}  {q['api'][size]:>5}  {q['recommended'][size]:>23}")
    print("\nSigned-in listing page, in process (one shopper with memory; ms):")
    for name, t in report["signedIn"].items():
        print(f"  {name:<55} p50 {t['p50Ms']:>7.1f}  p95 {t['p95Ms']:>7.1f}")
    header = (
        f"\n{'server':<22} {'endpoint':<5} {'scenario':<42} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'x health':>8} {'x ping':>7} {'errors':>6}"
    )
    print(header)
    print("-" * (len(header) - 1))
    bare = {r["server"]: r["rps"] for r in report["rows"] if r["endpoint"] == "bare"}
    for r in report["rows"]:
        of_ping = r["rps"] / bare[r["server"]] if bare.get(r["server"]) else float("nan")
        print(
            f"{r['server']:<22} {r['endpoint']:<5} {r['scenario']:<42} {r['rps']:>8.1f} {r['p50Ms']:>8.1f}"
            f" {r['p95Ms']:>8.1f} {r['ofHealth']:>8.3f} {of_ping:>7.3f} {r['errors']:>6}"
        )
    print("\nx health = requests per second of the row / of /health on the same server in the same run.")
    print(
        "x ping = the same / of /bench/ping (one small ORM query through the same middleware: what issue 14\n"
        "called /health when it set the targets; /health now also checks Redis, the channel layer, the\n"
        "Celery broker and the outbox, so x health flatters every row and x ping is the stricter figure)."
    )
    for note in report["notes"]:
        print(f"NOTE: {note}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url:
        print(
            "DATABASE_URL is not set. The benchmark needs PostgreSQL, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce make bench-listing\n"
            "It creates and drops its own database (<name>_listing_bench) on that server.",
            file=sys.stderr,
        )
        return 2
    BENCH_DB = bench_database_name(base_url, BENCH_DB_SUFFIX)  # noqa: N806
    bench_url = database_url_for(base_url, BENCH_DB)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)

    reuse = args.keep_db and database_exists(base_url, BENCH_DB)
    if not reuse:
        create_database(base_url, BENCH_DB)
    setup_django(bench_url)
    import_seconds = None
    try:
        if reuse and catalog_ready(args.products, args.max_variants):
            print(f"reusing {BENCH_DB}: it already holds {args.products} products", flush=True)
        else:
            if reuse:
                from django.db import connections

                connections.close_all()
                create_database(base_url, BENCH_DB)
            import_seconds = load_catalog(args.products, args.max_variants)

        from django.conf import settings

        from catalog.models import Product, Variant

        shopper = remembering_shopper()
        queries = count_queries(shopper)
        signed_in = time_recommended(shopper)
        report = {
            "startedAt": datetime.now(UTC).isoformat(timespec="seconds"),
            "products": Product.objects.count(),
            "variants": Variant.objects.count(),
            "importSeconds": import_seconds,
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "cpus": os.cpu_count(),
            "cache": "redis" if settings.REDIS_URL else "local memory",
            "totals": scenario_totals(),
            "queries": queries,
            "signedIn": signed_in,
            "rows": [],
            "notes": [],
        }
        from django.db import connections

        ids = list(Product.objects.order_by("id").values_list("id", flat=True))
        product_ids = ids[:: max(1, len(ids) // PRODUCT_PAGES)][:PRODUCT_PAGES]
        connections.close_all()  # the servers get the database to themselves
        for kind in args.servers:
            rows, notes = bench_server(kind, args, bench_url, product_ids)
            report["rows"] += rows
            report["notes"] += notes
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(base_url, BENCH_DB)

    print_report(report)
    out = RESULTS_DIR / f"listing-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nSaved {out.relative_to(ROOT)} (server logs beside it).")

    failed = [r for r in report["rows"] if r["errors"]]
    growing = [k for k, per_size in queries.items() if len(set(per_size.values())) > 1]
    for r in failed:
        where = f"{r['server']} {r['endpoint']} {r['scenario']}"
        print(f"FAIL: {where}: {r['errors']} errors, e.g. {r['firstError']}")
    for k in growing:
        print(f"FAIL: the {k} query count grows with the page size (N+1): {queries[k]}")
    return 1 if failed or growing else 0


if __name__ == "__main__":
    sys.exit(main())
