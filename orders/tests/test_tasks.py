from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from commerce.celery import app
from orders.models import IdempotencyRecord
from orders.tasks import purge_idempotency_records_task

pytestmark = pytest.mark.django_db


def expired_and_live(user):
    now = timezone.now()
    IdempotencyRecord.objects.create(
        user=user, key="old", request_hash="h", expires_at=now - timedelta(hours=1)
    )
    IdempotencyRecord.objects.create(
        user=user, key="new", request_hash="h", expires_at=now + timedelta(hours=1)
    )


def test_task_purges_expired_records_and_is_scheduled(user):
    expired_and_live(user)
    assert purge_idempotency_records_task() == 1
    assert purge_idempotency_records_task() == 0  # running it again changes nothing
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    entry = app.conf.beat_schedule["orders-purge-idempotency-records"]
    assert entry["task"] == purge_idempotency_records_task.name


def test_command_purges_expired_records(user):
    expired_and_live(user)
    out = StringIO()
    call_command("purge_idempotency_records", stdout=out)
    assert "Deleted 1 expired" in out.getvalue()
