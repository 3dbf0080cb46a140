"""Celery tasks for voice recovery: short, keyed by primary key, safe to run twice (ARCHITECTURE rule 10).

- ``voice.recovery_scan`` (beat, every VOICE_RECOVERY_SCAN_INTERVAL_SECONDS): scan, then process due jobs.
- ``voice.process_due_jobs``: guardrails + attempt rows for due jobs, then one ``voice.place_call`` each.
- ``voice.place_call``: dials one attempt; the attempt's pending -> dialing claim makes a redelivery a no-op.
- ``voice.simulator_callback``: the simulator's signed callback, delivered after a delay.

Repeat-safety comes from the database (unique recovery key, unique (job, number), the attempt's
status), never from "is another worker running" checks; ``acks_late`` then re-runs a task whose worker
died, which the claims turn into a no-op. Only database hiccups are retried by Celery: a provider error
is a failed attempt with its own backoff, not a task retry.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx
from celery import shared_task
from django.conf import settings
from django.db import OperationalError, connection

from commerce.celery import enqueue
from commerce.errors import DomainError
from voice import services
from voice.selectors import VoiceConfig, voice_config, webhook_secret

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/api/v1/voice/superu/callback"
DB_RETRY: dict[str, Any] = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}
# Soft limit (SoftTimeLimitExceeded raised in the task) and hard limit (the worker process is replaced):
# a scan or a batch touches many rows; one call waits on the provider's HTTP timeouts.
BATCH_LIMITS: dict[str, Any] = {"soft_time_limit": 120, "time_limit": 150}
CALL_LIMITS: dict[str, Any] = {"soft_time_limit": 60, "time_limit": 90}


def send(task, args: tuple = (), *, countdown: int | None = None, config: VoiceConfig | None = None) -> None:
    """Queues ``task`` on VOICE_CELERY_QUEUE (default: Celery's default queue); runs it here when eager."""
    enqueue(task, args=args, queue=(config or voice_config()).celery_queue, countdown=countdown)


@shared_task(name="voice.recovery_scan", acks_late=True, **DB_RETRY, **BATCH_LIMITS)
def recovery_scan_task(force: bool = False) -> dict:
    """Beat's entry point. Does nothing unless the scheduler is enabled (environment or admin)."""
    config = voice_config()
    if not (force or config.scheduler_enabled):
        return {"skipped": "scheduler disabled"}
    result = services.recovery_scan(config=config)
    send(process_due_jobs_task, config=config)
    return {"created": result.created, "cancelled": result.cancelled}


@shared_task(name="voice.process_due_jobs", acks_late=True, **DB_RETRY, **BATCH_LIMITS)
def process_due_jobs_task() -> dict:
    attempt_ids = services.process_due_jobs()
    config = voice_config()
    for attempt_id in attempt_ids:
        send(place_call_task, (attempt_id,), config=config)
    report = services.alerts_evaluate(config=config)
    return {"attempts": len(attempt_ids), "backlog": report.backlog}


@shared_task(name="voice.place_call", acks_late=True, **DB_RETRY, **CALL_LIMITS)
def place_call_task(attempt_id: int) -> str:
    return services.attempt_dial(attempt_id=attempt_id).status


# --- Simulator callback --------------------------------------------------------------------------
def simulator_callback_deliver(*, body: str, config: VoiceConfig | None = None) -> str:
    """Signs ``body`` like SuperU and posts it to the site; without a reachable site, applies it here.

    Returns how it was delivered ("http <status>" or "in-process") for logs and tests.
    """
    config = config or voice_config()
    raw = body.encode()
    timestamp = str(int(time.time()))
    signature = services.callback_signature(secret=webhook_secret(config), timestamp=timestamp, body=raw)
    base = config.simulator_callback_url.rstrip("/")
    if base:
        try:
            response = httpx.post(
                f"{base}{CALLBACK_PATH}",
                content=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-SuperU-Signature": signature,
                    "X-SuperU-Timestamp": timestamp,
                },
                timeout=5.0,
            )
        except httpx.HTTPError as exc:
            logger.info("voice simulator: %s unreachable (%s); applying the callback in-process", base, exc)
        else:
            logger.info("voice simulator: callback posted to %s: %s", base, response.status_code)
            return f"http {response.status_code}"
    # Same checks and the same service as the HTTP endpoint, just without the network.
    services.callback_verify(body=raw, signature=signature, timestamp=timestamp, config=config)
    try:
        services.callback_apply(body=raw)
    except DomainError as exc:
        logger.warning("voice simulator: callback not applied: %s", exc.message)
        return f"in-process {exc.code}"
    return "in-process"


@shared_task(name="voice.simulator_callback", acks_late=True, **DB_RETRY, **CALL_LIMITS)
def simulator_callback_task(body: str) -> str:
    return simulator_callback_deliver(body=body)


def _deliver_later(body: str, delay: int) -> None:
    time.sleep(delay)
    try:
        simulator_callback_deliver(body=body)
    except DomainError as exc:
        logger.warning("voice simulator: callback refused: %s", exc.message)
    finally:
        connection.close()


def simulator_callback_schedule(*, body: str, config: VoiceConfig) -> None:
    """Has the simulated call "end" after VOICE_SIMULATOR_CALLBACK_DELAY_SECONDS.

    With a broker, a Celery task with a countdown. In the embedded run (eager Celery, where a countdown
    is ignored) a daemon thread waits instead, so the page that started the call returns first
    (``voice_recovery_scan`` joins it before exiting); a delay of 0 delivers at once, in this thread
    (what the tests use).
    """
    delay = max(0, config.simulator_callback_delay_seconds)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        send(simulator_callback_task, (body,), countdown=delay, config=config)
    elif delay == 0:
        simulator_callback_deliver(body=body, config=config)
    else:
        thread = threading.Thread(
            target=_deliver_later, args=(body, delay), daemon=True, name="voice-simulator"
        )
        _SIMULATOR_THREADS.append(thread)
        thread.start()


_SIMULATOR_THREADS: list[threading.Thread] = []


def simulator_callbacks_wait(timeout: float = 30.0) -> int:
    """Waits for the embedded run's pending simulator callbacks (a command must not exit before them)."""
    waited = 0
    while _SIMULATOR_THREADS:
        _SIMULATOR_THREADS.pop().join(timeout=timeout)
        waited += 1
    return waited
