"""``manage.py load_catalog FILE``: import a catalog file (CONTRACT.md section 4), idempotently.

The file is a JSON array of products or JSON lines (one product object per line). The import is one
transaction (see :func:`catalog.services.catalog_import`): bad input exits non-zero, names the record
and field, and writes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.services import ImportResult, catalog_import
from commerce.errors import DomainError

BAR_WIDTH = 30


def read_records(path: Path) -> list[Any]:
    """Products from a JSON array file or a JSON lines file; :class:`CommandError` if it is neither."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text.") from None
    stripped = text.lstrip()
    if not stripped:
        raise CommandError(f"{path} is empty: expected a JSON array of products or JSON lines.")
    if stripped.startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise CommandError(f"{path} is not valid JSON: {exc.msg} ({where}).") from None
        if not isinstance(records, list):
            raise CommandError(f"{path}: expected a JSON array of products.")
        return records
    records = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}, line {line_no}: not valid JSON ({exc.msg}).") from None
    return records


class Command(BaseCommand):
    help = "Creates or updates products and variants (matched by sku) from a JSON array or JSON lines file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="path to a .json (array) or .jsonl file")
        parser.add_argument("--no-progress", action="store_true", help="never draw the progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        records = read_records(path)
        is_tty = not options["no_progress"] and getattr(self.stdout._out, "isatty", lambda: False)()
        started = time.monotonic()
        try:
            result = catalog_import(records=records, progress=self._progress(is_tty, len(records)))
        except DomainError as exc:
            if is_tty:
                self.stdout.write("")
            raise CommandError(f"{path}: {exc.message} Nothing was imported.") from None
        if is_tty:
            self.stdout.write("")
        self.stdout.write(self._summary(path, result, time.monotonic() - started))

    def _progress(self, is_tty: bool, total: int) -> Callable[[int, int], None]:
        # A redrawn bar on a terminal; in a log (make, CI, docker) a line every tenth of the file.
        step = max(1, total // 10)
        out = self.stdout

        def on_progress(done: int, total: int) -> None:
            if is_tty:
                filled = BAR_WIDTH * done // total
                bar = "#" * filled + "-" * (BAR_WIDTH - filled)
                out.write(f"\r  [{bar}] {done}/{total} products", ending="")
                out.flush()
            elif done % step == 0 or done == total:
                self.stdout.write(f"  {done}/{total} products")

        return on_progress

    @staticmethod
    def _summary(path: Path, r: ImportResult, seconds: float) -> str:
        return (
            f"Imported {path}: {r.records} products "
            f"({r.products_created} created, {r.products_updated} updated), "
            f"variants {r.variants_created} created, {r.variants_updated} updated, "
            f"{r.unchanged_variants} unchanged; {r.categories_created} new categories "
            f"in {seconds:.1f}s."
        )
