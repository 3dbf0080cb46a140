"""Checkout benchmark: 50 concurrent shoppers (register, add to cart, check out) against Daphne.

Runs the site under Daphne on a PostgreSQL database of its own (``<name>_checkout_bench`` on the
server of ``DATABASE_URL``; created and dropped), drives it through the JSON API from 50 threads and
prints checkouts per second, p50/p95 latency of add-to-cart + checkout, and whether stock and orders
add up. Demand (50 units) exceeds the stock (40 units over 5 variants), so some checkouts must be
refused with insufficient_stock and none may oversell.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce .venv/bin/python benchmarks/checkout.py
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = {
    "name": "Bench Shopper",
    "line1": "1 Load St",
    "city": "Austin",
    "state": "TX",
    "postalCode": "78701",
    "country": "US",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_url(base: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_checkout_bench"))


def admin_sql(base: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(base)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--variants", type=int, default=5)
    parser.add_argument("--stock", type=int, default=8, help="units per variant")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        print(
            "DATABASE_URL must point at PostgreSQL, e.g. postgres://postgres@127.0.0.1:5432/commerce",
            file=sys.stderr,
        )
        return 2
    url = bench_url(base)
    dbname = urlsplit(url).path.lstrip("/")
    admin_sql(base, f'DROP DATABASE IF EXISTS "{dbname}"')
    admin_sql(base, f'CREATE DATABASE "{dbname}"')
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "DB_CONN_MAX_AGE": "0",
        "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "100000",
        "RATE_LIMIT_AUTHENTICATED_PER_MINUTE": "100000",
        "SECURE_SSL_REDIRECT": "false",  # a plain-HTTP rig (README, Production checklist)
    }
    env.pop("REDIS_URL", None)
    py = sys.executable
    server = None
    try:
        subprocess.run([py, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        setup = (
            "from catalog.services import catalog_import;"
            "catalog_import(records=[{'name': 'Bench Runner', 'brand': 'Stride', 'category': 'Running Shoes',"
            "'description': 'bench', 'tags': [], 'imageUrl': '', 'variants': ["
            + ",".join(
                f"{{'sku': 'BENCH-{i}', 'size': '{8 + i}', 'color': 'black', "
                f"'price': '99.99', 'stock': {args.stock}}}"
                for i in range(args.variants)
            )
            + "]}])"
        )
        subprocess.run([py, "manage.py", "shell", "-c", setup], cwd=ROOT, env=env, check=True)
        port = free_port()
        log = open(ROOT / "var" / "checkout_bench_daphne.log", "w")  # noqa: SIM115 - closed with the server
        server = subprocess.Popen(
            [
                str(Path(py).parent / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "commerce.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        api = f"http://127.0.0.1:{port}/api/v1"
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        product = httpx.get(f"{api}/products?query=bench").json()["items"][0]
        variant_ids = [v["id"] for v in product["variants"]]
        print(f"Daphne on :{port}, {args.shoppers} shoppers, {args.variants} variants x {args.stock} units")

        tokens = []
        for n in range(args.shoppers):  # registration (password hashing) is set-up, not measured
            r = httpx.post(
                f"{api}/auth/register",
                json={"email": f"b{n}@bench.test", "password": "SecurePass123!"},
                timeout=30,
            )
            tokens.append(r.json()["accessToken"])

        latencies: list[float] = []
        outcomes: dict[str, int] = {}
        lock = threading.Lock()
        barrier = threading.Barrier(args.shoppers)

        def shopper(n: int) -> None:
            headers = {"Authorization": f"Bearer {tokens[n]}"}
            with httpx.Client(timeout=60, headers=headers) as client:
                barrier.wait()
                start = time.perf_counter()
                add = client.post(
                    f"{api}/cart/items",
                    json={
                        "productId": product["id"],
                        "variantId": variant_ids[n % len(variant_ids)],
                        "quantity": 1,
                    },
                )
                if add.status_code != 201:
                    outcome = "add:" + add.json()["error"]["code"]
                else:
                    order = client.post(
                        f"{api}/orders",
                        json={
                            "shippingAddress": ADDRESS,
                            "paymentMethod": {"type": "card", "token": "pm_test_bench"},
                        },
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                    )
                    outcome = (
                        "ordered" if order.status_code == 201 else "checkout:" + order.json()["error"]["code"]
                    )
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1

        threads = [threading.Thread(target=shopper, args=(n,)) for n in range(args.shoppers)]
        wall = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - wall

        check = (
            "from catalog.models import Variant; from orders.models import Order, OrderLine;"
            "from django.db.models import Sum;"
            "print('RESULT', Variant.objects.filter(sku__startswith='BENCH-').aggregate(s=Sum('stock'))['s'],"
            "Order.objects.count(), OrderLine.objects.aggregate(q=Sum('quantity'))['q'] or 0,"
            "Variant.objects.filter(stock__lt=0).count())"
        )
        out = subprocess.run(
            [py, "manage.py", "shell", "-c", check],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result_line = next(line for line in out.splitlines() if line.startswith("RESULT"))
        stock_left, orders, units, negative = map(int, result_line.split()[1:])
        initial = args.variants * args.stock
        ordered = outcomes.get("ordered", 0)
        print(f"outcomes: {dict(sorted(outcomes.items()))}")
        print(f"checkouts/s: {ordered / wall:.1f}   ({ordered} orders in {wall:.2f} s wall)")
        print(
            f"add+checkout latency: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
            f"mean {statistics.mean(latencies) * 1000:.0f} ms"
        )
        adds_up = orders == ordered and units == initial - stock_left and negative == 0 and stock_left >= 0
        print(
            f"stock {initial} -> {stock_left}, orders {orders}, units ordered {units}, "
            f"negative stock rows {negative}: {'adds up' if adds_up else 'DOES NOT ADD UP'}"
        )
        return 0 if adds_up else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        admin_sql(base, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
