"""Celery done right (docs/operations.md): time limits on every task, a visibility timeout longer than
any ETA, one beat (a second one waits for the lock and sends nothing), failed tasks kept for staff."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from celery.beat import Service
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from commerce.accounts.tests.factories import UserFactory
from commerce.celery import app, enqueue
from commerce.outbox.models import OutboxMessage
from commerce.testing.task_results import wait_for_task_result
from commerce.testing.worker import in_process_worker
from orders.acp.tasks import backoff_seconds
from voice.selectors import voice_config

OUR_PREFIXES = ("orders.", "carts.", "catalog.", "conversations.", "memory.", "voice.", "outbox.")


def _our_tasks():
    app.loader.import_default_modules()
    tasks = [task for name, task in app.tasks.items() if name.startswith(OUR_PREFIXES)]
    assert len(tasks) >= 12
    return tasks


def test_every_task_has_a_soft_and_a_hard_time_limit():
    for task in _our_tasks():
        assert task.soft_time_limit and task.time_limit, task.name
        assert task.soft_time_limit < task.time_limit, task.name
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit


@pytest.mark.django_db  # the voice settings row (admin overrides) is read
def test_the_broker_visibility_timeout_outlasts_the_longest_eta():
    longest = settings.CELERY_LONGEST_ETA_SECONDS
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > longest
    for task in _our_tasks():
        if getattr(task, "autoretry_for", ()) and task.retry_backoff:
            # Celery's default cap of an automatic retry's backoff is 600 s.
            assert getattr(task, "retry_backoff_max", 600) <= longest, task.name
    # A task that retries by hand caps its own countdown the same way.
    assert backoff_seconds(64) <= longest
    assert voice_config().simulator_callback_delay_seconds <= longest


@pytest.mark.django_db
@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_a_countdown_longer_than_the_longest_eta_is_clamped():
    from memory.tasks import cleanup_task

    enqueue(cleanup_task, countdown=10 * settings.CELERY_LONGEST_ETA_SECONDS)
    message = OutboxMessage.objects.get()
    assert message.eta <= timezone.now() + timedelta(seconds=settings.CELERY_LONGEST_ETA_SECONDS)


@pytest.mark.redis
def test_a_second_beat_waits_for_the_first_ones_lock_and_sends_nothing():
    from redbeat.schedulers import acquire_distributed_beat_lock, get_redis

    assert app.conf.beat_scheduler == "redbeat.RedBeatScheduler"
    first = Service(app, scheduler_cls="redbeat.RedBeatScheduler", max_interval=1)
    second = Service(app, scheduler_cls="redbeat.RedBeatScheduler", max_interval=1)
    try:
        acquire_distributed_beat_lock(sender=first)  # what `celery beat` does as it starts
        assert first.scheduler.lock.owned()
        waiting = threading.Thread(target=acquire_distributed_beat_lock, kwargs={"sender": second})
        waiting.start()
        time.sleep(1.5)
        # Beat only ticks (sends) once it holds the lock: the second one is still waiting for it.
        assert waiting.is_alive() and second.scheduler.lock is None
        first.scheduler.close()  # the first beat stops and releases its lock
        waiting.join(timeout=5)
        assert not waiting.is_alive() and second.scheduler.lock is not None
    finally:
        get_redis(app).delete(first.scheduler.lock_key)  # the waiting thread's lock, if it got it


@pytest.mark.django_db(transaction=True)
def test_a_task_that_fails_in_the_worker_is_kept_and_shown_to_staff():
    from django_celery_results.models import TaskResult

    with in_process_worker():
        # A summary for a user id that is not a number: the task raises in the worker.
        result = app.send_task(
            "memory.record_summary", kwargs={"user_id": "nobody", "conversation_label": "x", "text": "y"}
        )
        wait_for_task_result(task_id=result.id)
    failed = TaskResult.objects.get(task_id=result.id)
    assert failed.status == "FAILURE" and failed.task_name == "memory.record_summary"
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = staff.get("/admin/django_celery_results/taskresult/?status__exact=FAILURE")
    assert listing.status_code == 200 and result.id.encode() in listing.content
