"""commerce.inserts: a row created unless a unique constraint already holds one, the transaction kept."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from carts.models import Cart
from commerce.accounts.tests.factories import ShopperSessionFactory
from commerce.inserts import inserted_unless_taken

pytestmark = pytest.mark.django_db


def test_a_new_row_is_inserted_and_its_key_and_defaults_come_back():
    session = ShopperSessionFactory()
    cart = Cart(session=session)
    with CaptureQueriesContext(connection) as captured:
        assert inserted_unless_taken(cart) is True
    stored = Cart.objects.get(session=session)
    assert cart.pk == stored.pk and not cart._state.adding
    assert cart.created_at == stored.created_at and cart.updated_at == stored.updated_at  # auto_now set
    if connection.vendor == "postgresql":  # one statement: no savepoint around it
        assert [q["sql"].split(" ", 1)[0] for q in captured.captured_queries] == ["INSERT"]
        assert "ON CONFLICT DO NOTHING" in captured.captured_queries[0]["sql"]


def test_a_row_already_taken_is_not_inserted_and_the_transaction_goes_on():
    session = ShopperSessionFactory()
    first = Cart.objects.create(session=session)
    with transaction.atomic():
        second = Cart(session=session)
        assert inserted_unless_taken(second) is False
        assert second.pk is None and second._state.adding
        # still usable: a failed statement would have aborted a PostgreSQL transaction
        assert list(Cart.objects.filter(session=session).values_list("pk", flat=True)) == [first.pk]
