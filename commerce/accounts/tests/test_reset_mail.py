"""Password-reset e-mail goes through the outbox to a Celery task: SMTP failing neither fails the
request (the same "if the address exists we sent a link" answer) nor loses the mail (retried; a mail
that never goes is a failed task for staff). docs/operations.md, "E-mail"."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import Client, override_settings
from django.utils import timezone

from commerce.accounts.tasks import mail_retry_countdown, send_password_reset_mail_task
from commerce.accounts.tests.factories import UserFactory
from commerce.outbox.models import OutboxMessage
from commerce.outbox.services import outbox_sweep
from commerce.testing.faults import CLOSED_REDIS_URL, celery_broker
from commerce.testing.task_results import wait_for_task_result

pytestmark = pytest.mark.django_db(transaction=True)
FLAKY = "commerce.accounts.tests.test_reset_mail.FlakyEmailBackend"
RESET = "/account/password/reset/"
DONE = "/account/password/reset/done/"


class FlakyEmailBackend(EmailBackend):
    """The locmem backend behind an SMTP server that refuses the first ``failures`` sends."""

    failures = 0
    attempts = 0

    def send_messages(self, email_messages):
        type(self).attempts += 1
        if type(self).attempts <= type(self).failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(email_messages)


@pytest.fixture
def smtp():
    def failing(first: int) -> type[FlakyEmailBackend]:
        FlakyEmailBackend.failures, FlakyEmailBackend.attempts = first, 0
        return FlakyEmailBackend

    # Eager unless a test says otherwise: the embedded run, where the task runs after commit here.
    with override_settings(EMAIL_BACKEND=FLAKY, CELERY_TASK_ALWAYS_EAGER=True):
        yield failing


def _ask(email: str):
    return Client(raise_request_exception=False).post(RESET, {"email": email})


def test_embedded_run_retries_a_failing_smtp_server_and_the_mail_goes(smtp):
    backend = smtp(2)
    user = UserFactory()
    response = _ask(user.email)
    assert response.status_code == 302 and response["Location"] == DONE
    assert backend.attempts == 3
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "/account/password/reset/" in mail.outbox[0].body


def test_an_smtp_server_that_never_answers_does_not_fail_the_request(smtp, caplog):
    backend = smtp(10_000)
    user = UserFactory()
    with caplog.at_level(logging.ERROR):
        response = _ask(user.email)
    # The same answer as for any address: nothing tells the visitor (or a prober) what happened.
    assert response.status_code == 302 and response["Location"] == DONE
    assert backend.attempts == send_password_reset_mail_task.max_retries + 1
    assert mail.outbox == []
    assert "SMTPServerDisconnected" in caplog.text


def test_with_the_broker_down_the_mail_waits_in_the_outbox_and_goes_when_it_is_back(smtp):
    backend = smtp(1)
    user = UserFactory()
    with (
        override_settings(CELERY_TASK_ALWAYS_EAGER=False, REDIS_RETRY_AFTER_SECONDS=0),
        celery_broker(CLOSED_REDIS_URL),
    ):
        response = _ask(user.email)
        assert response.status_code == 302 and response["Location"] == DONE
        kept = OutboxMessage.objects.get(task_name="accounts.send_password_reset_mail")
        assert kept.status == OutboxMessage.Status.PENDING and kept.last_error
    # Nothing secret waits in the database or the broker: the link's token is made at send time.
    assert set(kept.kwargs) == {"user_id", "domain", "site_name", "use_https"}
    assert mail.outbox == []
    with (
        override_settings(CELERY_TASK_ALWAYS_EAGER=False, REDIS_RETRY_AFTER_SECONDS=0),
        celery_broker("memory://"),
    ):
        assert outbox_sweep(now=timezone.now() + timedelta(minutes=10)) == {"due": 1, "published": 1}
    kept.refresh_from_db()
    assert kept.status == OutboxMessage.Status.SENT
    # What the worker runs with the published arguments (here in-process): the SMTP refusal is retried.
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        send_password_reset_mail_task.apply(kwargs=kept.kwargs)
    assert backend.attempts == 2
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_the_worker_retries_smtp_errors_with_growing_waits_capped_below_the_longest_eta(settings):
    waits = [mail_retry_countdown(n) for n in range(send_password_reset_mail_task.max_retries)]
    assert waits[:3] == [30, 60, 120]
    assert waits == sorted(waits) and max(waits) == settings.CELERY_LONGEST_ETA_SECONDS


def test_a_mail_that_never_goes_is_a_failed_task_staff_can_see(smtp, monkeypatch):
    from celery.contrib.testing.worker import start_worker
    from django_celery_results.models import TaskResult

    from commerce.celery import app

    smtp(10_000)
    monkeypatch.setattr(send_password_reset_mail_task, "max_retries", 1)
    monkeypatch.setattr("commerce.accounts.tasks.mail_retry_countdown", lambda retries: 0)
    user = UserFactory()
    with (
        override_settings(CELERY_TASK_ALWAYS_EAGER=False),
        celery_broker("memory://"),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60),
    ):
        assert _ask(user.email).status_code == 302
        wait_for_task_result(status="FAILURE")
    failed = TaskResult.objects.get(task_name="accounts.send_password_reset_mail")
    assert failed.status == "FAILURE" and "SMTPServerDisconnected" in failed.result
    # The first try and its one retry at least (the whole suite's embedded pass has been seen to add
    # one more, from the request's own after-commit work); never a mail.
    assert FlakyEmailBackend.attempts >= 2 and mail.outbox == []
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = staff.get("/admin/django_celery_results/taskresult/?status__exact=FAILURE")
    assert listing.status_code == 200 and failed.task_id.encode() in listing.content


def test_no_mail_for_an_account_gone_before_the_task_ran(smtp):
    smtp(0)
    user = UserFactory(is_active=False)
    assert (
        send_password_reset_mail_task.apply(
            kwargs={"user_id": user.pk, "domain": "shop", "site_name": "s", "use_https": True}
        ).get()
        is False
    )
    assert mail.outbox == []
