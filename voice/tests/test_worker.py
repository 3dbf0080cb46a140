"""A real Celery worker process consumes a real recovery job from the Redis broker, end to end.

Runs in the services pass (PostgreSQL + Redis): the worker is a separate process, so it must share a
real database with the test (the test database, committed data: ``transaction=True``). It listens on a
queue of its own so no other worker on the same Redis can take these tasks, and vice versa.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from voice.models import AttemptStatus, JobState, RecoveryJob
from voice.tasks import process_due_jobs_task

from .factories import abandoned_cart, job_for, shopper

BASE_DIR = Path(settings.BASE_DIR)
WAIT_SECONDS = 60


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_queue(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # this test sends to the broker for real
    queue = f"voice-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "VOICE_CELERY_QUEUE": queue,
        "VOICE_QUIET_HOURS_START": "0",
        "VOICE_QUIET_HOURS_END": "0",
        "VOICE_SIMULATOR_CALLBACK_DELAY_SECONDS": "0",
        "VOICE_SIMULATOR_CALLBACK_URL": "",
        "SUPERU_ENABLED": "false",
        "SUPERU_WEBHOOK_SECRET": "worker-test-secret",
    }
    log = open(BASE_DIR / "var" / f"{queue}.log", "w+")  # noqa: SIM115 (closed in the teardown)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "commerce",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue, log
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)
        log.close()
        Path(log.name).unlink(missing_ok=True)
        import redis

        redis.Redis.from_url(settings.REDIS_URL).delete(queue)


def _worker_log(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-4000:]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_places_the_call_and_applies_the_signed_callback(worker_queue):
    queue, log = worker_queue
    job = job_for(abandoned_cart(shopper()), due=timezone.now() - timedelta(seconds=1))
    process_due_jobs_task.apply_async(queue=queue)

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state in (JobState.COMPLETED, JobState.FAILED, JobState.DEAD_LETTER, JobState.CANCELLED):
            break
        time.sleep(0.25)
    assert job.state == JobState.COMPLETED, _worker_log(log)
    attempt = job.call_attempts.get()
    assert attempt.status == AttemptStatus.COMPLETED and attempt.provider_call_id.startswith("sim-")
    assert "Simulated call" in RecoveryJob.objects.get(pk=job.pk).summary
