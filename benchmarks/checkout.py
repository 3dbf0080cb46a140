"""Checkout benchmark: signed-in shoppers adding to the cart and placing orders through the real API.

What it does (``make bench-checkout``; needs PostgreSQL in ``DATABASE_URL``):

1. creates a throw-away database (``<name>_checkout_bench`` beside the one ``DATABASE_URL`` names),
   migrates it, loads the catalog through the importer and creates the shoppers (password hashing is
   set-up, not measured);
2. serves the site the production way, gunicorn with 2 sync workers (``--workers``), on a port from
   ``BENCH_PORTS`` (else any free one), and signs every shopper in through ``POST /api/v1/auth/login``;
3. measures ``/health`` (the yardstick: the ratio to it is the figure to compare across machines),
   then **scenario A**, 50 shoppers each on a product of their own with 16 checkouts in flight for
   ``--seconds`` (closed loop: ``POST /cart/items`` then ``POST /orders`` with a fresh
   ``Idempotency-Key``), then ``/health`` again; the CPU the gunicorn workers, their PostgreSQL sessions
   and this load generator used per checkout is printed beside the latencies (on a shared machine it
   moves far less with the neighbours' load than latency does; Redis, shared, is not counted); a
   sample of the placed requests is then sent again with the same key and body and must answer 200
   with the same order;
4. **scenario B**, the hot product: 50 shoppers at once (16 in flight) on 5 variants that hold stock for
   only some of them (``--hot-stock`` units each); the rest must be refused (409 insufficient_stock);
5. checks the database: no stock below zero, units sold = initial stock - final stock per variant,
   one order per placed request (each Idempotency-Key placed at most once), and drops the database.

A checkout is the pair add-to-cart + place-order, timed from the first request to the last answer.
Exit status 1 when anything oversold, a request was placed twice, or a request failed unexpectedly.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    BENCH_SETTINGS,
    LOOPBACK,
    ROOT,
    CpuWatch,
    LoadResult,
    bench_database_name,
    child_pids,
    create_database,
    database_url_for,
    drop_database,
    free_port,
    run_load,
    running_server,
)
from benchmarks.listing import load_average, server_command, server_env  # noqa: E402

BENCH_DB_SUFFIX = "checkout_bench"
RESULTS_DIR = ROOT / "benchmarks" / "results"
READY_PATH = "/bench/ping"
YARDSTICK_PATH = "/health"
PASSWORD = "Bench-Checkout-Pass-123!"
ADDRESS = {
    "name": "Bench Shopper",
    "line1": "1 Load St",
    "city": "Austin",
    "state": "TX",
    "postalCode": "78701",
    "country": "US",
}
ORDER_BODY = {"shippingAddress": ADDRESS, "paymentMethod": {"type": "card", "token": "pm_test_bench"}}
REPLAYS = 10  # placed requests sent again with the same key


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16, help="checkouts in flight (default 16)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds of scenario A")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--server", choices=("gunicorn", "daphne"), default="gunicorn", help="daphne: one ASGI process"
    )
    parser.add_argument("--hot-variants", type=int, default=5, help="variants of the hot product")
    parser.add_argument("--hot-stock", type=int, default=5, help="units per hot variant (default 5)")
    return parser.parse_args(argv)


# --- the database ----------------------------------------------------------------------------------
@dataclass
class Fixture:
    emails: list[str]
    own: list[tuple[int, int]]  # per shopper: (product id, variant id) of their own product
    hot_product: int
    hot_variants: list[int]
    initial_stock: dict[int, int]  # variant id -> units before the run


def setup_django(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = BENCH_SETTINGS
    os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def build_fixture(args: argparse.Namespace) -> Fixture:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from catalog.models import Variant
    from catalog.services import catalog_import
    from commerce.accounts.models import User

    call_command("migrate", verbosity=0)

    def record(name: str, variants: list[tuple[str, int]]) -> dict:
        return {
            "name": name,
            "brand": "Stride",
            "category": "Running Shoes",
            "description": "benchmark product",
            "tags": [],
            "imageUrl": "",
            "variants": [
                {"sku": s, "size": str(8 + i), "color": "black", "price": "99.99", "stock": stock}
                for i, (s, stock) in enumerate(variants)
            ],
        }

    own_stock = 1_000_000  # scenario A never runs out: it measures the cost of a checkout
    records = [record(f"Bench Own {n}", [(f"BENCH-OWN-{n}", own_stock)]) for n in range(args.shoppers)]
    records.append(
        record("Bench Hot", [(f"BENCH-HOT-{i}", args.hot_stock) for i in range(args.hot_variants)])
    )
    catalog_import(records=records)
    password = make_password(PASSWORD)  # hashed once: set-up, not measured
    emails = [f"shopper{n}@bench.test" for n in range(args.shoppers)]
    User.objects.bulk_create(
        User(email=e, name=f"Shopper {n}", password=password) for n, e in enumerate(emails)
    )
    by_sku = {v.sku: v for v in Variant.objects.filter(sku__startswith="BENCH-")}
    own = [(by_sku[f"BENCH-OWN-{n}"].product_id, by_sku[f"BENCH-OWN-{n}"].pk) for n in range(args.shoppers)]
    hot = [by_sku[f"BENCH-HOT-{i}"] for i in range(args.hot_variants)]
    return Fixture(
        emails=emails,
        own=own,
        hot_product=hot[0].product_id,
        hot_variants=[v.pk for v in hot],
        initial_stock={v.pk: v.stock for v in by_sku.values()},
    )


def database_check(fixture: Fixture) -> dict:
    """Oversold and duplicate checks, from the rows themselves."""
    from django.db.models import Count, Sum

    from catalog.models import Variant
    from orders.models import IdempotencyRecord, Order, OrderLine

    stock = dict(Variant.objects.filter(pk__in=fixture.initial_stock).values_list("pk", "stock"))
    sold = dict(
        OrderLine.objects.filter(variant_id__in=fixture.initial_stock)
        .values("variant_id")
        .annotate(q=Sum("quantity"))
        .values_list("variant_id", "q")
    )
    mismatched = [
        pk for pk, initial in fixture.initial_stock.items() if initial - stock[pk] != sold.get(pk, 0)
    ]
    negative = [pk for pk, left in stock.items() if left < 0]
    keyed = IdempotencyRecord.objects.exclude(order=None)
    twice = keyed.values("order").annotate(n=Count("id")).filter(n__gt=1).count()
    return {
        "orders": Order.objects.count(),
        "keyedOrders": keyed.count(),
        "ordersWithTwoKeys": twice,
        "negativeStockRows": len(negative),
        "stockMismatches": len(mismatched),
        "hotStockLeft": sum(stock[pk] for pk in fixture.hot_variants),
        "hotUnitsSold": sum(sold.get(pk, 0) for pk in fixture.hot_variants),
    }


# --- the shoppers ----------------------------------------------------------------------------------
class JsonClient:
    """One keep-alive connection of one signed-in shopper."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(LOOPBACK, port, timeout=60)
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None, **headers: str) -> tuple[int, dict]:
        sent = {"Content-Type": "application/json", "Accept": "application/json", **headers}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        payload = json.dumps(body) if body is not None else None
        try:
            self.conn.request(method, path, body=payload, headers=sent)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):  # a kept-alive connection the server closed
            self.conn.close()
            self.conn.request(method, path, body=payload, headers=sent)
            response = self.conn.getresponse()
        raw = response.read()
        if response.will_close:
            self.conn.close()
        return response.status, json.loads(raw) if raw else {}

    def close(self) -> None:
        self.conn.close()


@dataclass
class Checkouts:
    latencies_ms: list[float] = field(default_factory=list)
    order_ms: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    placed: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (shopper, order id)
    seconds: float = 0.0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    lock_waits: dict = field(default_factory=dict)
    cpu: dict = field(default_factory=dict)  # CPU ms per checkout (scenario A)

    def percentile(self, p: int) -> float:
        return _percentile(self.latencies_ms, p)


def _percentile(values: list[float], p: int) -> float:
    return LoadResult(len(values), 0, 1, sorted(values)).percentile(p) if values else float("nan")


LOCK_WATCH_NAME = "checkout-bench-lockwatch"


def _per_checkout(used: list[float], checkouts: int) -> dict:
    workers, database, generator = (round(ms / checkouts, 1) if checkouts else 0.0 for ms in used)
    return {"workersMs": workers, "postgresMs": database, "loadGeneratorMs": generator}


class LockWatch:
    """Samples ``pg_stat_activity`` of the bench database every 20 ms while a scenario runs: how many
    sessions wait on a lock (row locks of stock, the idempotency index, ...)."""

    def __init__(self, bench_url: str) -> None:
        self.url = bench_url
        self.samples: list[int] = []
        self.waiting_on: dict[str, int] = {}  # statement (first words) -> samples seen waiting
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True, application_name=LOCK_WATCH_NAME) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT left(query, 60) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                ).fetchall()
                self.samples.append(len(rows))
                for (query,) in rows:
                    self.waiting_on[query] = self.waiting_on.get(query, 0) + 1
                time.sleep(0.02)

    def __enter__(self) -> LockWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def summary(self) -> dict:
        waiting = [n for n in self.samples if n]
        return {
            "samples": len(self.samples),
            "max": max(self.samples, default=0),
            "share": len(waiting) / len(self.samples) if self.samples else 0.0,
            "mostlyOn": max(self.waiting_on, key=self.waiting_on.__getitem__, default=""),
        }


def checkout_once(client: JsonClient, shopper: int, product: int, variant: int, into: Checkouts) -> None:
    key = uuid.uuid4().hex
    began = time.perf_counter()
    status, body = client.call(
        "POST", "/api/v1/cart/items", {"productId": str(product), "variantId": str(variant), "quantity": 1}
    )
    requests, order_ms = 1, None
    if status != 201:
        outcome = f"add:{status}:{body.get('error', {}).get('code', '')}"
    else:
        ordered = time.perf_counter()
        status, body = client.call("POST", "/api/v1/orders", ORDER_BODY, **{"Idempotency-Key": key})
        order_ms = (time.perf_counter() - ordered) * 1000
        requests += 1
        outcome = "placed" if status == 201 else f"order:{status}:{body.get('error', {}).get('code', '')}"
    elapsed = (time.perf_counter() - began) * 1000
    if status not in (200, 201):
        # A refused order leaves its line in the cart; the next attempt must not inherit it.
        _, cart = client.call("GET", "/api/v1/cart")
        for item in cart.get("items", []):
            client.call("DELETE", f"/api/v1/cart/items/{item['id']}")
    with into.lock:
        into.latencies_ms.append(elapsed)
        if order_ms is not None:
            into.order_ms.append(order_ms)
        into.requests += requests
        into.count(outcome)
        if outcome == "placed":
            into.placed[key] = (shopper, body["id"])


def sign_in(port: int, emails: list[str], concurrency: int) -> list[JsonClient]:
    clients = [JsonClient(port) for _ in emails]
    jobs: queue.Queue[int] = queue.Queue()
    for n in range(len(emails)):
        jobs.put(n)

    def work() -> None:
        while True:
            try:
                n = jobs.get_nowait()
            except queue.Empty:
                return
            status, body = clients[n].call(
                "POST", "/api/v1/auth/login", {"email": emails[n], "password": PASSWORD}
            )
            if status != 200:
                raise SystemExit(f"login of {emails[n]} answered {status}: {body}")
            clients[n].token = body["accessToken"]

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return clients


def scenario_distinct(clients: list[JsonClient], fixture: Fixture, args: argparse.Namespace) -> Checkouts:
    """Closed loop for ``args.seconds``: in-flight slot ``i`` serves shoppers i, i+16, i+32, ... in turn,
    so no shopper ever has two checkouts in flight."""
    result = Checkouts()
    stop_at = [0.0]
    gate = threading.Barrier(args.concurrency + 1)

    def work(slot: int) -> None:
        mine = list(range(slot, len(clients), args.concurrency))
        gate.wait()
        n = 0
        while time.perf_counter() < stop_at[0] and mine:
            shopper = mine[n % len(mine)]
            product, variant = fixture.own[shopper]
            checkout_once(clients[shopper], shopper, product, variant, result)
            n += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(args.concurrency)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    stop_at[0] = began + args.seconds
    gate.wait()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - began
    return result


def scenario_hot(clients: list[JsonClient], fixture: Fixture, args: argparse.Namespace) -> Checkouts:
    """Every shopper once, all at the same moment, 16 in flight, on the hot product's few variants."""
    result = Checkouts()
    jobs: queue.Queue[int] = queue.Queue()
    for n in range(len(clients)):
        jobs.put(n)
    gate = threading.Barrier(args.concurrency + 1)

    def work() -> None:
        gate.wait()
        while True:
            try:
                n = jobs.get_nowait()
            except queue.Empty:
                return
            variant = fixture.hot_variants[n % len(fixture.hot_variants)]
            checkout_once(clients[n], n, fixture.hot_product, variant, result)

    threads = [threading.Thread(target=work) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    gate.wait()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - began
    return result


def replay_check(clients: list[JsonClient], placed: dict[str, tuple[int, str]]) -> list[str]:
    """The same key and body again: 200 and the same order, never a second one."""
    problems = []
    for key, (shopper, order_id) in list(placed.items())[:REPLAYS]:
        status, body = clients[shopper].call("POST", "/api/v1/orders", ORDER_BODY, **{"Idempotency-Key": key})
        if status != 200 or body.get("id") != order_id:
            problems.append(f"replay of {key}: HTTP {status}, order {body.get('id')} (placed {order_id})")
    return problems


# --- the report ------------------------------------------------------------------------------------
def describe(name: str, result: Checkouts, health_rps: float) -> dict:
    placed = result.outcomes.get("placed", 0)
    rate = placed / result.seconds if result.seconds else 0.0
    row = {
        "scenario": name,
        "checkouts": len(result.latencies_ms),
        "placed": placed,
        "outcomes": dict(sorted(result.outcomes.items())),
        "seconds": round(result.seconds, 2),
        "checkoutsPerSecond": round(rate, 1),
        "requestsPerSecond": round(result.requests / result.seconds, 1) if result.seconds else 0.0,
        "ofHealth": round(rate / health_rps, 3) if health_rps else None,
        "p50Ms": round(result.percentile(50), 1),
        "p95Ms": round(result.percentile(95), 1),
        "orderP50Ms": round(_percentile(result.order_ms, 50), 1),
        "orderP95Ms": round(_percentile(result.order_ms, 95), 1),
        "lockWaits": result.lock_waits,
        "cpuPerCheckoutMs": result.cpu,
    }
    print(
        f"  {name}: {row['checkoutsPerSecond']} checkouts/s ({row['requestsPerSecond']} req/s), "
        f"{row['ofHealth']}x /health; add+order p50 {row['p50Ms']:.0f} ms, p95 {row['p95Ms']:.0f} ms "
        f"(order alone p50 {row['orderP50Ms']:.0f} ms, p95 {row['orderP95Ms']:.0f} ms); {row['outcomes']}; "
        f"PostgreSQL sessions waiting on a lock: at most {result.lock_waits['max']} "
        f"({result.lock_waits['share']:.0%} of {result.lock_waits['samples']} samples)"
        + (f", mostly in: {result.lock_waits['mostlyOn']}" if result.lock_waits["mostlyOn"] else ""),
        flush=True,
    )
    if result.cpu:
        print(
            f"    CPU per checkout: gunicorn workers {result.cpu['workersMs']} ms, their PostgreSQL sessions "
            f"{result.cpu['postgresMs']} ms, load generator {result.cpu['loadGeneratorMs']} ms",
            flush=True,
        )
    return row


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url:
        print(
            "DATABASE_URL is not set. The benchmark needs PostgreSQL, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce make bench-checkout\n"
            "It creates and drops its own database (<name>_checkout_bench) on that server.",
            file=sys.stderr,
        )
        return 2
    bench_db = bench_database_name(base_url, BENCH_DB_SUFFIX)
    bench_url = database_url_for(base_url, bench_db)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    create_database(base_url, bench_db)
    setup_django(bench_url)
    from django.db import connections

    failures: list[str] = []
    try:
        fixture = build_fixture(args)
        connections.close_all()  # the server gets the database to itself
        port = free_port()
        env = server_env(args.server, bench_url)
        env["RATE_LIMIT_AUTHENTICATED_PER_MINUTE"] = "100000000"
        env["LOG_LEVEL"] = "WARNING"
        services = "Redis cache and broker" if env.get("REDIS_URL") else "local-memory cache, eager tasks"
        name = (
            f"gunicorn ({args.workers} sync workers, {services})"
            if args.server == "gunicorn"
            else f"daphne (1 process, {services})"
        )
        with running_server(
            f"checkout-{args.server}",
            server_command(args.server, port, args.workers),
            port=port,
            env=env,
            log_dir=RESULTS_DIR,
            ready_path=READY_PATH,
        ) as server:
            load_before = load_average()
            print(f"{name} on {LOOPBACK}:{server.port}, load average {load_before}", flush=True)
            if not env.get("REDIS_URL"):
                print(
                    "  (no REDIS_URL: Celery tasks run inline in the request, e.g. memory's purchase signal;"
                    " production has a broker, set REDIS_URL for its shape)",
                    flush=True,
                )
            clients = sign_in(server.port, fixture.emails, args.concurrency)

            def health() -> LoadResult:
                return run_load(
                    server.port,
                    [YARDSTICK_PATH],
                    concurrency=args.concurrency,
                    seconds=min(args.seconds, 3.0),
                    min_requests=40,
                    warmup_requests=args.workers,
                )

            for client in clients[: args.workers]:  # warm each worker on the checkout path
                checkout_once(client, 0, *fixture.own[0], Checkouts())
            health_before = health()
            with (
                LockWatch(bench_url) as watch,
                CpuWatch(
                    child_pids(server.process.pid), bench_url, exclude_application=LOCK_WATCH_NAME
                ) as cpu,
            ):
                distinct = scenario_distinct(clients, fixture, args)
            distinct.lock_waits = watch.summary()
            distinct.cpu = _per_checkout(cpu.used, len(distinct.latencies_ms))
            health_after = health()
            health_rps = statistics.mean([health_before.rps, health_after.rps])
            print(
                f"  /health: {health_before.rps:.0f} then {health_after.rps:.0f} req/s "
                f"(p50 {health_before.percentile(50):.1f} ms)",
                flush=True,
            )
            rows = [describe("A: distinct products", distinct, health_rps)]
            failures += replay_check(clients, distinct.placed)
            with LockWatch(bench_url) as watch:
                hot = scenario_hot(clients, fixture, args)
            hot.lock_waits = watch.summary()
            rows.append(describe("B: hot product", hot, health_rps))
            load_after = load_average()
            for client in clients:
                client.close()
        setup_check = database_check(fixture)
    finally:
        connections.close_all()
        drop_database(base_url, bench_db)

    placed = len(distinct.placed) + len(hot.placed)
    hot_units = args.hot_variants * args.hot_stock
    check = setup_check
    print(f"\nload average {load_before} before, {load_after} after")
    print(
        f"database: {check['orders']} orders for {placed} placed requests (+{args.workers} warm-up), "
        f"{check['keyedOrders']} keyed; negative stock rows {check['negativeStockRows']}, "
        f"sold != initial - final on {check['stockMismatches']} variants; hot stock {hot_units} -> "
        f"{check['hotStockLeft']} ({check['hotUnitsSold']} sold, {len(hot.placed)} orders placed)"
    )
    oversold = check["negativeStockRows"] or check["stockMismatches"] or check["hotUnitsSold"] > hot_units
    duplicates = check["orders"] != placed + args.workers or check["ordersWithTwoKeys"]
    if oversold:
        failures.append("OVERSOLD: stock below zero or sold units do not match the stock taken")
    if duplicates:
        failures.append(f"DUPLICATES: {check['orders']} orders for {placed + args.workers} placed requests")
    unexpected = [
        f"{row['scenario']}: {outcome} x{n}"
        for row in rows
        for outcome, n in row["outcomes"].items()
        if outcome != "placed" and not (row["scenario"].startswith("B") and "insufficient_stock" in outcome)
    ]
    failures += [f"unexpected outcome {u}" for u in unexpected]
    if len(hot.placed) != min(hot_units, args.shoppers):
        failures.append(
            f"hot product: {len(hot.placed)} orders placed, {min(hot_units, args.shoppers)} expected"
        )
    report = {"server": name, "health": round(health_rps, 1), "rows": rows, "database": check}
    out = RESULTS_DIR / f"checkout-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    for failure in failures:
        print(f"FAIL: {failure}")
    print("every order placed once, stock exact" if not failures else "")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
