"""Reads whose SQL is built once per process (commerce/prepared.py)."""

from __future__ import annotations

import pytest
from django.db.models import Value
from django.db.models.sql import compiler as sql_compiler

from commerce import prepared as prepared_module
from commerce.accounts.models import User
from commerce.accounts.tests.factories import UserFactory
from commerce.prepared import prepared

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
