"""The audit trail: one writer, a SHA-256 chain, audit_verify, append-only on PostgreSQL, read-only in
the admin, and the services and signals that write it."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from commerce.accounts.services import account_update
from commerce.accounts.tests.factories import UserFactory
from commerce.audit.models import AuditEvent
from commerce.audit.selectors import audit_chain_verify
from commerce.audit.services import GENESIS, audit_record

PASSWORD = "Correct-Horse-42"


def _let_the_test_tamper() -> None:
    """On PostgreSQL the trigger refuses any change: a test that plays the attacker switches it off."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")


def _verify_exit_code() -> int:
    try:
        call_command("audit_verify")
    except SystemExit as exc:
        return int(exc.code)
    return 0


@pytest.mark.django_db
def test_entries_form_one_chain_and_audit_verify_says_it_is_intact(capsys):
    user = UserFactory()
    first = audit_record(action="test.one", actor=user, obj=user, summary={"a": 1})
    second = audit_record(action="test.two", object_type="thing", object_id="7")
    assert first.previous_hash == GENESIS and second.previous_hash == first.hash
    assert first.actor_repr == user.email and first.object_id == str(user.pk)
    assert _verify_exit_code() == 0 and "intact: 2 entries" in capsys.readouterr().out


@pytest.mark.django_db
def test_a_changed_entry_is_named_by_audit_verify(capsys):
    audit_record(action="test.one")
    changed = audit_record(action="test.two", summary={"amount": "10.00"})
    audit_record(action="test.three")
    _let_the_test_tamper()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET summary = %s WHERE id = %s", ['{"amount": "0.01"}', changed.pk]
        )
    assert _verify_exit_code() == 1
    assert f"entry {changed.pk}" in capsys.readouterr().err
    assert audit_chain_verify().first_bad_id == changed.pk


@pytest.mark.django_db
def test_a_removed_entry_is_found_by_its_successors_broken_link(capsys):
    audit_record(action="test.one")
    removed = audit_record(action="test.two")
    after = audit_record(action="test.three")
    _let_the_test_tamper()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [removed.pk])
    assert _verify_exit_code() == 1 and f"entry {after.pk}" in capsys.readouterr().err


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_refuses_to_update_or_delete_an_entry():
    event = audit_record(action="test.one")
    for statement in (
        "UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.one"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain():
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                audit_record(action=f"test.thread{n}", object_id=str(i))
        except BaseException as exc:  # collected and re-raised by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert AuditEvent.objects.count() == 60
    check = audit_chain_verify()
    assert check.ok and check.checked == 60


@pytest.mark.django_db
def test_sign_in_failed_sign_in_and_sign_out_are_recorded_with_the_client(client):
    user = UserFactory(email="ada@example.com", password=PASSWORD)
    client.post(
        "/account/login/", {"username": "ada@example.com", "password": "wrong"}, HTTP_USER_AGENT="UA-test"
    )
    client.post(
        "/account/login/", {"username": "ada@example.com", "password": PASSWORD}, HTTP_USER_AGENT="UA-test"
    )
    client.post("/account/logout/")
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "auth.sign_in_failed" in actions and "auth.sign_in" in actions and "auth.sign_out" in actions
    signed_in = AuditEvent.objects.get(action="auth.sign_in")
    assert (
        signed_in.actor == user
        and signed_in.user_agent == "UA-test"
        and signed_in.client_address == "127.0.0.1"
    )
    failed = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert "wrong" not in str(failed.summary)  # never the password


@pytest.mark.django_db
def test_a_consent_or_phone_change_is_recorded_without_the_whole_number():
    user = UserFactory(phone="")
    account_update(user=user, phone="+14155550123", voice_opt_in=True)
    event = AuditEvent.objects.get(action="account.contact_and_consent")
    assert event.summary["voice_opt_in"] == {"before": False, "after": True}
    assert event.summary["phone"]["after"] == "…23" and "4155550123" not in str(event.summary)
    account_update(user=user, name="Ada")  # neither phone nor consent: nothing to record
    assert AuditEvent.objects.filter(action="account.contact_and_consent").count() == 1


@pytest.mark.django_db
def test_the_admin_shows_the_trail_read_only_even_to_a_superuser(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    event = audit_record(action="test.one")
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"action": "forged"})
    assert AuditEvent.objects.get(pk=event.pk).action == "test.one"


@pytest.mark.django_db
def test_a_lockout_and_the_password_change_that_revokes_tokens_are_recorded(
    api_client, settings, django_capture_on_commit_callbacks
):
    UserFactory(email="bob@example.com", password=PASSWORD)
    statuses = [
        api_client.post(
            "/api/v1/auth/login", {"email": "bob@example.com", "password": "nope"}, format="json"
        ).status_code
        for _ in range(settings.LOGIN_FAILURE_LIMIT + 1)
    ]
    assert statuses[-1] == 429, statuses
    assert AuditEvent.objects.filter(action="auth.locked", object_id="bob@example.com").exists()
    from django.test import RequestFactory

    from commerce.accounts.services import user_change_password

    user = UserFactory(email="carl@example.com", password=PASSWORD)
    # another client: the address that failed above is locked as well as the account
    request = RequestFactory(REMOTE_ADDR="192.0.2.10").post("/api/v1/account/password")
    with django_capture_on_commit_callbacks(execute=True):  # the revocation is announced after commit
        user_change_password(
            user=user, current_password=PASSWORD, new_password="An0ther-Long-Secret", request=request
        )
    assert AuditEvent.objects.filter(action="auth.password_changed", actor=user).exists()
    assert audit_chain_verify().ok
