"""commerce.updates: several UPDATEs as one statement on PostgreSQL, the same rows changed everywhere."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.sql import compiler as sql_compiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carts.models import Cart, CartLine
from carts.tests.factories import CartLineFactory
from commerce import updates as updates_module
from commerce.updates import rows_updated_together, updated_together

pytestmark = pytest.mark.django_db


def test_two_updates_change_their_rows_in_one_statement_on_postgresql():
    line = CartLineFactory(quantity=1)
    other = CartLineFactory(quantity=1)
    with CaptureQueriesContext(connection) as captured:
        updated_together(
            (CartLine.objects.filter(pk=line.pk), {"quantity": 3}),
            (Cart.objects.filter(pk=line.cart_id), {"abandonment_note": "back"}),
        )
    writes = [q["sql"].split(" ", 1)[0] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert writes == (["WITH"] if connection.vendor == "postgresql" else ["UPDATE", "UPDATE"])
    assert CartLine.objects.get(pk=line.pk).quantity == 3
    assert CartLine.objects.get(pk=other.pk).quantity == 1  # only the rows filtered
    assert Cart.objects.get(pk=line.cart_id).abandonment_note == "back"
    assert Cart.objects.get(pk=other.cart_id).abandonment_note == ""


def test_one_update_or_none_is_a_plain_update():
    line = CartLineFactory(quantity=1)
    updated_together()
    updated_together((CartLine.objects.filter(pk=line.pk), {"quantity": 2}))
    assert CartLine.objects.get(pk=line.pk).quantity == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs the updates one by one")
def test_an_update_that_reads_another_table_is_refused_before_anything_is_written():
    line = CartLineFactory(quantity=1)
    with pytest.raises(ValueError, match="its own table"):
        updated_together(
            (CartLine.objects.filter(pk=line.pk), {"quantity": 4}),
            (CartLine.objects.filter(cart__session__isnull=False), {"quantity": 5}),
        )
    assert CartLine.objects.get(pk=line.pk).quantity == 1


def test_rows_updated_together_change_only_their_rows_with_the_statement_built_once(monkeypatch):
    line, other = CartLineFactory(quantity=1), CartLineFactory(quantity=1)
    monkeypatch.setattr(updates_module, "_remembered", {})
    builds: list[int] = []
    build = sql_compiler.SQLUpdateCompiler.as_sql

    def counting(self, *args, **kwargs):
        builds.append(1)
        return build(self, *args, **kwargs)

    monkeypatch.setattr(sql_compiler.SQLUpdateCompiler, "as_sql", counting)
    for quantity, note in ((2, "first"), (5, "again")):
        with CaptureQueriesContext(connection) as captured:
            rows_updated_together((line, {"quantity": quantity}), (line.cart, {"abandonment_note": note}))
        writes = [q["sql"].split(" ", 1)[0] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert writes == (["WITH"] if connection.vendor == "postgresql" else ["UPDATE", "UPDATE"])
        assert CartLine.objects.get(pk=line.pk).quantity == quantity
        assert Cart.objects.get(pk=line.cart_id).abandonment_note == note
    assert CartLine.objects.get(pk=other.pk).quantity == 1
    assert Cart.objects.get(pk=other.cart_id).abandonment_note == ""
    # PostgreSQL: the first call's two parts, nothing after; SQLite runs update() each time
    assert len(builds) == (2 if connection.vendor == "postgresql" else 4)


def test_rows_updated_together_with_an_expression_run_as_update_runs_it():
    line = CartLineFactory(quantity=2)
    rows_updated_together((line, {"quantity": F("quantity") + 1}), (line.cart, {"abandonment_note": "x"}))
    rows_updated_together((line, {"quantity": F("quantity") + 1}))
    assert CartLine.objects.get(pk=line.pk).quantity == 4
    assert Cart.objects.get(pk=line.cart_id).abandonment_note == "x"


def test_rows_updated_together_write_a_none_and_a_value_of_the_same_field_each_as_given():
    line = CartLineFactory()
    moment = timezone.now()
    for value in (moment, None, moment, None):
        rows_updated_together((line.cart, {"abandonment_reason_at": value, "abandonment_note": "n"}))
        assert Cart.objects.get(pk=line.cart_id).abandonment_reason_at == value
