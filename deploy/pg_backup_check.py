"""Back up PostgreSQL and prove the backup restores: dump, restore into a scratch database, compare rows.

    DATABASE_URL=postgres://... python deploy/pg_backup_check.py [--dump-dir DIR] [--keep-scratch]
    DATABASE_URL=postgres://.../commerce python deploy/pg_backup_check.py --demo-source   # CI

1. Opens a REPEATABLE READ transaction on the source and exports its snapshot; ``pg_dump -Fc
   --snapshot`` dumps exactly that snapshot and every table's rows are counted in it, so writes made
   meanwhile (the store stays open) cannot make the counts disagree.
2. Creates the scratch database ``<source>_restore_check`` on the same server (dropped first if left
   over), restores the dump with ``pg_restore --no-owner --exit-on-error``, and counts again.
3. Prints one line per table and exits 1 if any count differs or a table is missing, else 0. The dump
   file is kept (``--dump-dir``, default ``var/backups``): it is the backup. The scratch database is
   dropped unless ``--keep-scratch``.

``--demo-source`` (CI's second pass): first creates ``<source>_backup_source``, migrates it and loads the
demo catalog, discount codes and store policies through ``manage.py``, and checks that one instead, so
the check runs on real tables and rows; both scratch databases and the dump (in a temporary directory
unless ``--dump-dir``) are removed afterwards.

Needs ``pg_dump``, ``pg_restore`` and a role that may create databases. Reads nothing but the source
and writes nothing to it. docs/operations.md, "Backup and restore".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

BASE = Path(__file__).resolve().parent.parent


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` (same server, user and options)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def row_counts(connection: psycopg.Connection) -> dict[str, int]:
    """``schema.table -> rows`` for every ordinary table outside the system schemas."""
    tables = connection.execute(
        "SELECT schemaname, tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    ).fetchall()
    counts = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        counts[f"{schema}.{table}"] = connection.execute(query).fetchone()[0]
    return counts


@contextmanager
def scratch_database(server_url: str, name: str, *, keep: bool = False) -> Iterator[str]:
    """Creates database ``name`` (dropping a leftover first) and yields its URL; drops it afterwards."""
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        if not keep:
            with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def dump_and_count(source_url: str, dump_path: Path) -> dict[str, int]:
    """Dumps ``source_url`` to ``dump_path`` and counts its rows, both in one snapshot."""
    with psycopg.connect(source_url) as connection:
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
        subprocess.run(  # noqa: S603  # nosec B603 (fixed program, arguments from this script)
            ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={dump_path}", source_url],
            check=True,
        )
        counts = row_counts(connection)
        connection.execute("COMMIT")
    return counts


def restore_and_count(dump_path: Path, target_url: str) -> dict[str, int]:
    subprocess.run(  # noqa: S603  # nosec B603
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target_url}", str(dump_path)], check=True
    )
    with psycopg.connect(target_url) as connection:
        return row_counts(connection)


def compare(source: dict[str, int], restored: dict[str, int]) -> list[str]:
    """One line per table; lines starting with ``MISMATCH`` or ``MISSING`` are failures."""
    lines = []
    for table, rows in sorted(source.items()):
        if table not in restored:
            lines.append(f"MISSING  {table}: {rows} rows in the source, no table restored")
        elif restored[table] != rows:
            lines.append(f"MISMATCH {table}: {rows} in the source, {restored[table]} restored")
        else:
            lines.append(f"ok       {table}: {rows}")
    return lines


def check(source_url: str, *, dump_dir: Path, keep_scratch: bool) -> int:
    dump_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dump_path = dump_dir / f"{database_name(source_url)}-{stamp}.dump"
    source_counts = dump_and_count(source_url, dump_path)
    print(f"dumped {database_name(source_url)} to {dump_path} ({dump_path.stat().st_size} bytes)")
    scratch = f"{database_name(source_url)}_restore_check"
    with scratch_database(source_url, scratch, keep=keep_scratch) as target_url:
        restored = restore_and_count(dump_path, target_url)
    lines = compare(source_counts, restored)
    print("\n".join(lines))
    failures = [line for line in lines if not line.startswith("ok")]
    total = sum(source_counts.values())
    print(
        f"{len(source_counts)} tables, {total} rows: "
        + ("restore FAILED" if failures else "restore verified")
    )
    return 1 if failures or not source_counts else 0


def seed_demo(url: str) -> None:
    """Migrates ``url`` and loads the demo data through manage.py, as the compose migrate service does."""
    env = {**os.environ, "DATABASE_URL": url}
    env.setdefault("SECRET_KEY", "backup-check-only")
    for command in (
        ["migrate", "--noinput"],
        ["load_catalog", "catalog/demo/demo_catalog.json"],
        ["load_demo_extras"],
        ["load_store_policies"],
    ):
        subprocess.run(  # noqa: S603  # nosec B603
            [sys.executable, "manage.py", *command, "--verbosity=0"], cwd=BASE, env=env, check=True
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dump-dir", type=Path, help="where the dump is kept (default var/backups)")
    parser.add_argument("--keep-scratch", action="store_true", help="leave the restored database for a look")
    parser.add_argument("--demo-source", action="store_true", help="check a freshly seeded scratch source")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("DATABASE_URL must name a PostgreSQL database", file=sys.stderr)
        return 2
    if not args.demo_source:
        return check(url, dump_dir=args.dump_dir or BASE / "var" / "backups", keep_scratch=args.keep_scratch)
    with (
        tempfile.TemporaryDirectory() as scratch_dir,
        scratch_database(url, f"{database_name(url)}_backup_source") as source_url,
    ):
        seed_demo(source_url)
        return check(source_url, dump_dir=args.dump_dir or Path(scratch_dir), keep_scratch=args.keep_scratch)


if __name__ == "__main__":
    sys.exit(main())
