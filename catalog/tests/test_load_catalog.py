import io
import json

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product, Variant
from catalog.tests.factories import import_record as record

pytestmark = pytest.mark.django_db


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _records():
    return [
        record("Velocity Running Shoes", "Stride", "Footwear > Running Shoes", ["V-1", "V-2"]),
        record("Campus Hoodie", "Urban Thread", "Tops > Hoodies", ["H-1"], size="M"),
    ]


def test_loads_a_json_array_and_reports_counts(tmp_path):
    path = _write(tmp_path, "catalog.json", json.dumps(_records()))
    out = io.StringIO()

    call_command("load_catalog", str(path), stdout=out)

    assert Product.objects.count() == 2 and Variant.objects.count() == 3
    assert "2 products (2 created, 0 updated)" in out.getvalue()
    assert "2/2 products" in out.getvalue()  # plain counts when not on a terminal


def test_loads_json_lines(tmp_path):
    path = _write(tmp_path, "catalog.jsonl", "\n".join(json.dumps(r) for r in _records()) + "\n\n")
    call_command("load_catalog", str(path), stdout=io.StringIO())
    assert Product.objects.count() == 2


def test_running_twice_changes_nothing_the_second_time(tmp_path):
    path = _write(tmp_path, "catalog.json", json.dumps(_records()))
    call_command("load_catalog", str(path), stdout=io.StringIO())
    out = io.StringIO()

    call_command("load_catalog", str(path), stdout=out)

    assert "0 created, 0 updated" in out.getvalue() and "3 unchanged" in out.getvalue()
    assert Product.objects.count() == 2 and Variant.objects.count() == 3


def test_draws_a_progress_bar_on_a_terminal(tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    path = _write(tmp_path, "catalog.json", json.dumps(_records()))
    out = Terminal()
    call_command("load_catalog", str(path), stdout=out)
    assert "\r  [###############---------------] 1/2 products" in out.getvalue()
    assert "[##############################] 2/2" in out.getvalue()


def test_bad_record_fails_naming_record_and_field_and_writes_nothing(tmp_path):
    records = _records()
    records[1]["variants"][0]["price"] = "12,50"
    path = _write(tmp_path, "catalog.json", json.dumps(records))

    with pytest.raises(CommandError) as caught:
        call_command("load_catalog", str(path), stdout=io.StringIO())

    message = str(caught.value)
    assert "record 2 (sku H-1)" in message and "variants[0].price" in message
    assert "Nothing was imported" in message
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "is empty"),
        ("[{]", "not valid JSON"),
        ('{"name": "x"}\nnot json\n', "line 2"),
        ('{"not": "an array"', "line 1"),
    ],
)
def test_unreadable_files_fail_with_a_clear_message(tmp_path, text, expected):
    path = _write(tmp_path, "bad.json", text)
    with pytest.raises(CommandError, match=expected):
        call_command("load_catalog", str(path), stdout=io.StringIO())


def test_missing_file_fails_clearly(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_catalog", str(tmp_path / "nope.json"), stdout=io.StringIO())


def test_exit_status_is_non_zero_on_bad_input(tmp_path, capsys):
    from catalog.management.commands.load_catalog import Command

    path = _write(tmp_path, "bad.json", json.dumps([{"name": "No brand"}]))
    with pytest.raises(SystemExit) as exited:
        # What `manage.py load_catalog` runs: CommandError becomes a message on stderr and exit 1.
        Command().run_from_argv(["manage.py", "load_catalog", str(path)])

    assert exited.value.code != 0
    err = capsys.readouterr().err
    assert "record 1" in err and "field 'brand'" in err


def _planned_rows(table: str) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_an_import_refreshes_the_planners_statistics_of_the_tables_it_filled(
    tmp_path, django_capture_on_commit_callbacks
):
    path = _write(tmp_path, "catalog.json", json.dumps(_records()))
    assert _planned_rows("catalog_variant") != 3  # what PostgreSQL last counted: none of these rows

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_catalog", str(path), stdout=io.StringIO())

    assert _planned_rows("catalog_variant") == 3 and _planned_rows("catalog_product") == 2


@pytest.mark.postgres
def test_statistics_are_left_alone_when_a_write_is_small_beside_the_table():
    from commerce.db import planner_statistics_refresh

    assert planner_statistics_refresh(written={Variant: 10_000}) == ["catalog_variant"]
    assert planner_statistics_refresh(written={Variant: 5}) == []  # under autovacuum's 50 rows + 10%
    assert planner_statistics_refresh(written={Variant: 0, Product: 10_000}) == ["catalog_product"]


def test_statistics_are_postgresqls_only():
    from django.db import connection

    from commerce.db import planner_statistics_refresh

    if connection.vendor == "postgresql":
        pytest.skip("on PostgreSQL the tests above cover it")
    assert planner_statistics_refresh(written={Variant: 10_000}) == []
