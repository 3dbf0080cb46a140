"""Reads whose SQL is built once per process (commerce/prepared.py)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Prefetch, Value
from django.db.models.sql import compiler as sql_compiler
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from carts.models import Cart, CartLine
from carts.tests.factories import CartLineFactory, GuestCartFactory
from commerce import prepared as prepared_module
from commerce.accounts.models import User
from commerce.accounts.tests.factories import UserFactory
from commerce.prepared import PreparedRead, prepared

pytestmark = pytest.mark.django_db


@pytest.fixture
def builds(monkeypatch):
    """How many times a SELECT's SQL is built in full (the compiler's own as_sql)."""
    counted: list[int] = []
    build = sql_compiler.SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        counted.append(1)
        return build(self, *args, **kwargs)

    monkeypatch.setattr(sql_compiler.SQLCompiler, "as_sql", counting)
    monkeypatch.setattr(prepared_module, "VERIFY", False)  # a check would build every time
    monkeypatch.setattr(prepared_module, "_remembered", {})
    return counted


def _by_email(email: str):
    return prepared(User.objects.filter(email=email), "test.user_by_email")


def test_a_prepared_read_is_built_once_and_answers_for_each_parameter(builds):
    ada, bob = UserFactory(email="ada@example.com"), UserFactory(email="bob@example.com")
    assert list(_by_email("ada@example.com")) == [ada]
    assert list(_by_email("bob@example.com")) == [bob]
    assert list(_by_email("nobody@example.com")) == []
    assert len(builds) == 1


def test_first_count_and_another_filter_are_shapes_of_their_own(builds):
    ada = UserFactory(email="ada@example.com", name="Ada")
    UserFactory(email="ada2@example.com", name="Ada")
    assert _by_email("ada@example.com").first() == ada
    assert _by_email("ada@example.com").count() == 1
    named = prepared(User.objects.filter(name="Ada").order_by("email"), "test.by_name")
    assert [u.email for u in named] == ["ada2@example.com", "ada@example.com"]
    assert [u.email for u in named.filter(email__startswith="ada2")] == ["ada2@example.com"]
    assert _by_email("ada2@example.com").first().name == "Ada"
    assert _by_email("ada@example.com").count() == 1
    assert len(builds) == 4  # first(), count(), the name list, the narrowed list: each built once


def test_a_read_with_parameters_outside_its_where_clause_is_built_every_time(builds):
    UserFactory(email="ada@example.com")
    labelled = lambda: prepared(  # noqa: E731
        User.objects.filter(email="ada@example.com").annotate(label=Value("x")), "test.labelled"
    )
    assert [u.label for u in labelled()] == ["x"]
    assert [u.label for u in labelled()] == ["x"]
    assert len(builds) == 2


def test_an_in_list_of_another_length_is_another_shape(builds):
    users = UserFactory.create_batch(3)
    emails = [u.email for u in users]

    def by_emails(wanted: list[str]):
        return sorted(u.email for u in prepared(User.objects.filter(email__in=wanted), "test.by_emails"))

    assert by_emails(emails[:2]) == sorted(emails[:2])
    assert by_emails(emails[1:]) == sorted(emails[1:])
    assert by_emails(emails) == sorted(emails)
    assert by_emails([]) == []  # matches nothing: Django answers without a query
    assert len(builds) == 3  # two emails, three, and the empty list (built by Django as without this)


def test_the_suite_checks_each_remembered_read_against_a_fresh_build(monkeypatch):
    UserFactory(email="ada@example.com")
    monkeypatch.setattr(prepared_module, "_remembered", {})
    assert prepared_module.VERIFY  # conftest.py turns it on for the whole suite
    list(_by_email("ada@example.com"))
    (key, entry) = next(iter(prepared_module._remembered.items()))
    prepared_module._remembered[key] = (entry[0].replace("SELECT", "SELECT DISTINCT", 1), *entry[1:])
    with pytest.raises(AssertionError, match="differs from a fresh build"):
        list(_by_email("ada@example.com"))


# --- PreparedRead: the whole read built once ------------------------------------------------------


def _cart_lines_read() -> PreparedRead:
    return PreparedRead(
        "test.lines_of_cart",
        lambda cart_pk: CartLine.objects.filter(cart_id=cart_pk).select_related("variant__product"),
    )


def test_a_prepared_read_builds_its_query_once_and_answers_each_call_with_its_own_rows(builds):
    first, second = CartLineFactory(quantity=2), CartLineFactory(quantity=3)
    CartLineFactory(cart=second.cart, quantity=4)
    builds.clear()  # the factories' own reads
    lines = _cart_lines_read()
    assert [(x.pk, x.quantity) for x in lines.all(first.cart_id)] == [(first.pk, 2)]
    assert [x.quantity for x in lines.all(second.cart_id)] == [3, 4]  # the model's ordering
    assert lines.all(-1) == []
    assert lines.first(-1) is None
    assert len(builds) == 2  # the first call's, and once more to tell its arguments from constants


def test_a_prepared_read_keeps_its_builders_constants_and_takes_arguments_in_any_order(builds):
    line = CartLineFactory(quantity=2)
    CartLineFactory(cart=line.cart, quantity=3)
    inactive = CartLineFactory(quantity=2, variant__product__is_active=False)
    builds.clear()
    of_active_products = PreparedRead(
        "test.lines_of_active_products",
        lambda cart_pk, quantity: CartLine.objects.filter(
            quantity=quantity, variant__product__is_active=True, cart_id=cart_pk
        ),
    )
    assert [x.pk for x in of_active_products.all(line.cart_id, 2)] == [line.pk]
    assert [x.quantity for x in of_active_products.all(line.cart_id, 3)] == [3]
    assert of_active_products.all(inactive.cart_id, 2) == []  # the constant is kept
    assert len(builds) == 2


def test_a_prepared_read_loads_related_rows_and_converted_values_as_the_orm_does(
    django_assert_num_queries,
):
    line = CartLineFactory(quantity=2)
    expected = CartLine.objects.select_related("variant__product").get(pk=line.pk)
    lines = _cart_lines_read()
    lines.all(line.cart_id)  # the first call builds
    with django_assert_num_queries(1):
        (read,) = lines.all(line.cart_id)
        assert read.variant.product.name == expected.variant.product.name  # joined, no query
        assert read.variant.price == expected.variant.price
        assert isinstance(read.variant.price, Decimal)  # through the field's converters
        assert read.added_at == expected.added_at and read.added_at.tzinfo is not None
    assert read._state.adding is False and read._state.db == "default"
    read.quantity = 5
    read.save(update_fields=["quantity"])  # a loaded instance saves as an UPDATE of its row
    assert CartLine.objects.get(pk=line.pk).quantity == 5


def test_a_missing_select_related_row_is_known_to_be_missing(django_assert_num_queries):
    cart = GuestCartFactory()
    carts = PreparedRead(
        "test.cart_with_discount",
        lambda pk: Cart.objects.filter(pk=pk).select_related("discount").order_by("pk")[:1],
    )
    carts.first(cart.pk)
    with django_assert_num_queries(1):
        assert carts.first(cart.pk).discount is None  # no second query to find out


def test_a_prepared_read_replays_its_prefetches(django_assert_num_queries):
    line = CartLineFactory()
    carts = PreparedRead(
        "test.cart_and_lines", lambda pk: Cart.objects.filter(pk=pk).prefetch_related("lines")
    )
    carts.all(line.cart_id)
    with django_assert_num_queries(2):
        (cart,) = carts.all(line.cart_id)
        assert [x.pk for x in cart.lines.all()] == [line.pk]


def test_one_rows_reverse_foreign_key_prefetch_is_replayed_without_building_it_again(builds):
    line = CartLineFactory()
    other = CartLineFactory()  # another cart's line: never among this cart's
    CartLineFactory(cart=line.cart)
    carts = PreparedRead(
        "test.cart_and_ordered_lines",
        lambda pk: Cart.objects.filter(pk=pk).prefetch_related(
            Prefetch("lines", queryset=CartLine.objects.order_by("-pk"))
        ),
    )
    expected = sorted(CartLine.objects.filter(cart=line.cart).values_list("pk", flat=True), reverse=True)
    carts.all(line.cart_id)
    builds.clear()
    (cart,) = carts.all(line.cart_id)
    assert builds == []  # neither the cart's read nor its lines' was built again
    with CaptureQueriesContext(connection) as queries:
        lines = list(cart.lines.all())
        assert all(each.cart is cart for each in lines)  # the foreign key points back, as Django's prefetch
    assert len(queries) == 0
    assert [each.pk for each in lines] == expected
    # a new query, still of this cart's lines only
    assert other.pk not in [each.pk for each in cart.lines.filter(quantity__gte=1)]
    assert carts.all(other.cart_id)[0].lines.all()[0].pk == other.pk


def test_a_prefetch_over_several_rows_or_of_another_kind_runs_as_django_runs_it(django_assert_num_queries):
    first, second = CartLineFactory(), CartLineFactory()
    both = PreparedRead(
        "test.carts_by_owner_kind",
        lambda kind: Cart.objects.filter(session__channel=kind).prefetch_related("lines").order_by("pk"),
    )
    kind = first.cart.session.channel
    both.all(kind)
    with django_assert_num_queries(2):
        carts = both.all(kind)
        lines = {c.pk: [x.pk for x in c.lines.all()] for c in carts}
    assert lines[first.cart_id] == [first.pk] and lines[second.cart_id] == [second.pk]
    with_attr = PreparedRead(
        "test.cart_lines_to_attr",
        lambda pk: Cart.objects.filter(pk=pk).prefetch_related(Prefetch("lines", to_attr="line_list")),
    )
    assert [x.pk for x in with_attr.first(first.cart_id).line_list] == [first.pk]
    twice = PreparedRead(
        "test.cart_lines_twice",
        lambda pk: Cart.objects.filter(pk=pk).prefetch_related(
            "lines", Prefetch("lines", queryset=CartLine.objects.filter(quantity__gte=5))
        ),
    )
    with pytest.raises(ValueError, match="already seen"):  # as Django refuses it
        twice.first(first.cart_id)


def test_a_replayed_prefetch_keeps_what_its_own_select_related_read(django_assert_num_queries):
    line = CartLineFactory()
    carts = PreparedRead(
        "test.cart_lines_with_their_cart",
        lambda pk: Cart.objects.filter(pk=pk).prefetch_related(
            Prefetch("lines", queryset=CartLine.objects.select_related("cart"))
        ),
    )
    carts.first(line.cart_id)
    with django_assert_num_queries(2):
        cart = carts.first(line.cart_id)
        (read,) = cart.lines.all()
        assert read.cart == cart and read.cart is not cart  # the joined row, as Django's prefetch leaves it


def test_a_builder_whose_arguments_are_not_its_parameters_runs_through_the_orm_every_time(builds):
    """A model instance, or None becoming IS NULL: answered right, just not remembered."""
    first, second = GuestCartFactory(), GuestCartFactory()
    by_session = PreparedRead("test.cart_by_session", lambda session: Cart.objects.filter(session=session))
    assert by_session.all(first.session) == [first]
    builds.clear()
    assert by_session.all(second.session) == [second]
    assert by_session.all(None) == []
    assert len(builds) == 2


@pytest.mark.django_db(transaction=True)  # a test's own transaction would hide "outside a transaction"
def test_a_locking_read_outside_a_transaction_is_refused_where_rows_are_locked():
    cart = GuestCartFactory()
    locked = PreparedRead(
        "test.locked_cart", lambda pk: Cart.objects.select_for_update().filter(pk=pk).order_by("pk")[:1]
    )
    if not connection.features.has_select_for_update:  # SQLite: no lock, nothing to refuse
        assert locked.first(cart.pk) == cart
        return
    with transaction.atomic():
        assert locked.first(cart.pk) == cart
    with pytest.raises(TransactionManagementError):
        locked.first(cart.pk)


def test_the_suite_checks_each_prepared_read_against_a_fresh_build():
    line = CartLineFactory()
    lines = _cart_lines_read()
    lines.all(line.cart_id)
    assert prepared_module.VERIFY
    compiled = lines._compiled["default"]
    lines._compiled["default"] = dataclasses.replace(
        compiled, sql=compiled.sql.replace("SELECT", "SELECT DISTINCT", 1)
    )
    with pytest.raises(AssertionError, match="differs from a fresh build"):
        lines.all(line.cart_id)


def test_an_int_past_a_32_bit_column_is_read_through_the_orm(builds):
    """Django answers a lookup past an integer column's range without asking the database (which
    would raise); the replayed SQL cannot know the column, so such a value takes the ORM's way."""
    line = CartLineFactory(quantity=2)
    by_quantity = PreparedRead(
        "test.by_quantity", lambda quantity: CartLine.objects.filter(quantity=quantity)
    )
    assert [x.pk for x in by_quantity.all(2)] == [line.pk]
    builds.clear()
    assert by_quantity.all(2**40) == []
    assert len(builds) == 1
