"""The transactional outbox: a task leaves with its transaction or not at all, survives a broker outage,
and what cannot be sent is shown to staff, who can send it again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from commerce.accounts.tests.factories import UserFactory
from commerce.celery import enqueue
from commerce.outbox.models import OutboxMessage
from commerce.outbox.services import outbox_publish, outbox_sweep
from commerce.testing.faults import CLOSED_REDIS_URL, celery_broker
from memory.tasks import cleanup_task

pytestmark = pytest.mark.django_db(transaction=True)
IN_MEMORY_BROKER = "memory://"
LATER = timedelta(minutes=10)


@pytest.fixture
def queued():
    """Celery with a broker (kombu's in-process one): tasks go through the outbox."""
    with (
        override_settings(CELERY_TASK_ALWAYS_EAGER=False, REDIS_RETRY_AFTER_SECONDS=0),
        celery_broker(IN_MEMORY_BROKER),
    ):
        yield


def test_a_task_decided_in_a_transaction_that_rolls_back_is_never_sent(queued):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(cleanup_task)
        raise RuntimeError("the request failed")
    assert not OutboxMessage.objects.exists()


def test_a_committed_task_is_published_once_the_transaction_commits(queued):
    with transaction.atomic():
        enqueue(cleanup_task, countdown=30)
        message = OutboxMessage.objects.get()
        assert message.status == OutboxMessage.Status.PENDING  # not before the commit
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.sent_at and message.eta and message.eta > message.created_at
    assert message.attempts == 1 and abs(message.sent_at - timezone.now()) < timedelta(minutes=1)
    assert not outbox_publish(message_id=message.pk), "a sent message is never sent twice"


def test_with_the_broker_down_the_task_is_kept_and_the_sweep_sends_it_when_it_is_back(queued):
    with celery_broker(CLOSED_REDIS_URL):
        enqueue(cleanup_task)
        message = OutboxMessage.objects.get()
        assert message.status == OutboxMessage.Status.PENDING
        assert message.attempts == 1 and "8119" in message.last_error
        assert outbox_sweep(now=timezone.now() + LATER)["published"] == 0
    assert outbox_sweep()["published"] == 0, "not due yet: the retry waits out its backoff"
    assert outbox_sweep(now=timezone.now() + LATER) == {"due": 1, "published": 1}
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT


@override_settings(OUTBOX_MAX_ATTEMPTS=2)
def test_a_task_that_cannot_be_sent_is_marked_failed_and_staff_send_it_again(queued):
    with celery_broker(CLOSED_REDIS_URL):
        enqueue(cleanup_task)
        outbox_sweep(now=timezone.now() + LATER)
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == 2
    assert outbox_sweep(now=timezone.now() + LATER)["due"] == 0, "failed rows wait for staff"

    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = staff.get("/admin/outbox/outboxmessage/?status__exact=failed")
    assert listing.status_code == 200 and b"memory.cleanup" in listing.content
    staff.post(
        "/admin/outbox/outboxmessage/",
        {"action": "send_again", "_selected_action": [message.pk]},
    )
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING and message.attempts == 0
    assert outbox_sweep(now=timezone.now() + LATER)["published"] == 1


def test_health_reports_the_outbox_backlog(queued):
    with celery_broker(CLOSED_REDIS_URL):
        enqueue(cleanup_task)
    outbox = Client().get("/health").json()["outbox"]
    assert outbox["pending"] == 1 and outbox["failed"] == 0
    assert outbox["oldestPendingSeconds"] >= 0


def test_metrics_report_how_long_the_oldest_kept_task_has_waited(queued):
    from commerce.metrics import metrics_text

    with celery_broker(CLOSED_REDIS_URL):
        enqueue(cleanup_task)
    OutboxMessage.objects.update(created_at=timezone.now() - LATER)

    lines = metrics_text().decode().splitlines()

    lag = next(line for line in lines if line.startswith("commerce_outbox_oldest_unpublished_seconds "))
    assert float(lag.split()[1]) >= LATER.total_seconds()


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_eager_celery_runs_the_task_after_commit_without_an_outbox_row():
    from catalog.tests.factories import VariantFactory
    from memory.models import SignalReceipt
    from memory.services import memory_record_signal

    user, product_id = UserFactory(), VariantFactory().product_id
    with transaction.atomic():
        assert memory_record_signal(user_id=user.pk, product_ids=[product_id], signal="view")
        assert not SignalReceipt.objects.exists(), "nothing runs before the commit"
    assert SignalReceipt.objects.count() == 1
    assert not OutboxMessage.objects.exists()


def test_the_requests_own_publish_takes_one_statement_and_never_undoes_a_sweepers_send(queued):
    """After its commit the request sends the message it holds and marks it sent in one conditional
    update: no lock, no read. A sweep that sent it first (a publish stalled past the grace) stays."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        enqueue(cleanup_task)
        written = len(captured.captured_queries)
    after_commit = [q["sql"] for q in captured.captured_queries[written:] if "outbox" in q["sql"]]
    assert len(after_commit) == 1 and after_commit[0].startswith("UPDATE")
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT

    from commerce.outbox import services

    stale = OutboxMessage.objects.create(task_name=cleanup_task.name, args=[], kwargs={}, log_context={})
    OutboxMessage.objects.filter(pk=stale.pk).update(
        status=OutboxMessage.Status.SENT, attempts=1, sent_at=timezone.now()
    )
    assert services._publish_own(stale) is False  # sent by the sweep meanwhile: left as it is
    stale.refresh_from_db()
    assert (stale.status, stale.attempts) == (OutboxMessage.Status.SENT, 1)
