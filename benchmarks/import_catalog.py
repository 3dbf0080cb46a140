"""Import benchmark: ``manage.py load_catalog`` on a 20,000-product JSON-lines file, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce make bench-import

Creates its own database (``<name>_import_bench`` on the server of ``DATABASE_URL``), migrates it,
writes the generated catalog (``catalog/demo/generate.py``) to a JSON-lines file, and times the command
twice: into the empty catalog (every product and variant created), then the same file again (every
record matched by sku, nothing changed). Prints products per second and the load average beside each.
The target of issue 14 is at least 650 products/s for the first run on an idle 2-CPU machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    ROOT,
    bench_database_name,
    create_database,
    database_url_for,
    drop_database,
    generated_catalog,
)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument(
        "--max-variants",
        type=int,
        default=0,
        help="keep at most this many variants per product (the generator makes ~20, issue 14's file ~7.4)",
    )
    args = parser.parse_args(argv)
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url:
        print("DATABASE_URL (PostgreSQL) is required; it uses <name>_import_bench.", file=sys.stderr)
        return 2
    name = bench_database_name(base_url, "import_bench")
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for(base_url, name),
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only-not-secret"),
        "DJANGO_SETTINGS_MODULE": "commerce.settings",
    }
    records = generated_catalog(args.products)
    if args.max_variants:
        records = [{**r, "variants": r["variants"][: args.max_variants]} for r in records]
    variants = sum(len(r["variants"]) for r in records)
    create_database(base_url, name)
    try:
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "catalog.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in records))
            for label in ("first import (all new)", "same file again (all unchanged)"):
                before = load_average()
                started = time.perf_counter()
                command = [*manage, "load_catalog", str(path), "--no-progress"]
                subprocess.run(command, cwd=ROOT, env=env, check=True)
                seconds = time.perf_counter() - started
                print(
                    f"{label}: {len(records)} products, {variants} variants in {seconds:.1f} s = "
                    f"{len(records) / seconds:.0f} products/s (load average {before} before, "
                    f"{load_average()} after; {os.cpu_count()} CPUs)",
                    flush=True,
                )
    finally:
        drop_database(base_url, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
