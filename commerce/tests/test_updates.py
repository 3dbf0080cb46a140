"""commerce.updates: several UPDATEs as one statement on PostgreSQL, the same rows changed everywhere."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carts.models import Cart, CartLine
from carts.tests.factories import CartLineFactory
from commerce.updates import updated_together

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
