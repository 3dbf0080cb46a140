"""Abandoned-cart scan benchmark: 100,000 carts, 1% of them abandoned; one scan timed, queries counted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce .venv/bin/python benchmarks/voice_scan.py

Uses its own database (``<name>_voice_bench`` on the same server, dropped and re-created), never the
one DATABASE_URL names. Prints the figures; nothing else is written.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

CARTS = int(os.environ.get("BENCH_CARTS", "100000"))
ABANDONED_SHARE = 0.01
BATCH = 5000


def _bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "benchmarks/voice_scan.py needs PostgreSQL: set DATABASE_URL, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce "
            ".venv/bin/python benchmarks/voice_scan.py"
        )
    parts = urlparse(url)
    bench_name = f"{parts.path.lstrip('/') or 'commerce'}_voice_bench"
    import psycopg

    admin_url = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{bench_name}"')
    return urlunparse(parts._replace(path=f"/{bench_name}"))


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from carts.models import Cart, CartLine
    from catalog.models import Category, Product, Variant
    from commerce.accounts.models import User
    from voice.models import RecoveryJob
    from voice.selectors import abandoned_carts, voice_config
    from voice.services import recovery_scan

    call_command("migrate", verbosity=0)
    now = timezone.now()
    category = Category.objects.create(name="Bench", slug="bench")
    product = Product.objects.create(name="Bench shoe", slug="bench-shoe", brand="B", category=category)
    variants = Variant.objects.bulk_create(
        [
            Variant(product=product, sku=f"B-{i}", size="M", color="c", price="49.99", stock=100)
            for i in range(20)
        ]
    )
    abandoned_every = round(1 / ABANDONED_SHARE)
    started = time.perf_counter()
    for offset in range(0, CARTS, BATCH):
        size = min(BATCH, CARTS - offset)
        users = User.objects.bulk_create(
            [
                User(
                    email=f"b{offset + i}@example.com", password="!", phone="+14155550123", voice_opt_in=True
                )
                for i in range(size)
            ]
        )
        carts = Cart.objects.bulk_create(
            [
                Cart(
                    user=user,
                    # 1 in 100 left 31 to 130 minutes ago; the rest touched within the last 29 minutes.
                    updated_at=now - timedelta(minutes=31 + (offset + i) % 100)
                    if (offset + i) % abandoned_every == 0
                    else now - timedelta(minutes=(offset + i) % 29),
                )
                for i, user in enumerate(users)
            ]
        )
        CartLine.objects.bulk_create(
            [
                CartLine(cart=cart, variant=variants[i % len(variants)], quantity=1)
                for i, cart in enumerate(carts)
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    load_seconds = time.perf_counter() - started

    config = voice_config()
    with connection.cursor() as cursor:
        sql, params = abandoned_carts(now=now, config=config).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    with CaptureQueriesContext(connection) as first_queries:
        t0 = time.perf_counter()
        first = recovery_scan(now=now)
        first_seconds = time.perf_counter() - t0
    with CaptureQueriesContext(connection) as second_queries:
        t0 = time.perf_counter()
        second = recovery_scan(now=now)
        second_seconds = time.perf_counter() - t0

    print(
        f"carts: {Cart.objects.count():,} ({CARTS // abandoned_every:,} abandoned), "
        f"loaded in {load_seconds:.1f}s"
    )
    print(
        f"first scan:  {first.created:,} jobs created in {first_seconds * 1000:.0f} ms, "
        f"{len(first_queries)} SQL queries"
    )
    print(
        f"second scan: {second.created:,} jobs created in {second_seconds * 1000:.0f} ms, "
        f"{len(second_queries)} SQL queries (nothing new: idempotent)"
    )
    print(f"jobs in the table: {RecoveryJob.objects.count():,}")
    print("plan of the candidate query:")
    print(plan)


if __name__ == "__main__":
    main()
