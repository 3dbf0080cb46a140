"""The transactional outbox: Celery work that survives a broker outage (ARCHITECTURE rule 9, kept).

:func:`outbox_enqueue` writes an :class:`OutboxMessage` in the caller's transaction and publishes it
once that transaction commits; a rolled-back request leaves no row and sends nothing. A publish that
fails (Redis down or unreachable) leaves the row pending; the beat task ``outbox.sweep`` publishes
every due row again, with a growing delay between tries, until the broker takes it or
``OUTBOX_MAX_ATTEMPTS`` is reached (then ``failed``, in the admin). Each publish holds the row's lock
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL), so the request's publisher and a sweep never
send the same row twice; a process killed between the broker's accept and the commit can still send
it twice, which the tasks tolerate (they are repeat-safe, ARCHITECTURE rule 10).

After one failed publish the broker is left alone for ``REDIS_RETRY_AFTER_SECONDS`` (a per-process
breaker), so requests do not each wait out a socket timeout while Redis is away.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pybreaker
import structlog
from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone
from kombu.exceptions import KombuError, OperationalError
from prometheus_client import Counter
from redis.exceptions import RedisError

from commerce.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

PUBLISHED = Counter("commerce_outbox_published", "Outbox messages the broker accepted.")
PUBLISH_FAILED = Counter(
    "commerce_outbox_publish_failed", "Outbox publishes that failed (the row stays for the sweep)."
)
# What a broker that is down or unreachable raises on publish.
PUBLISH_ERRORS = (OperationalError, KombuError, RedisError, OSError, pybreaker.CircuitBreakerError)
# Log context keys worth carrying from the request into the task (django-structlog binds them).
CARRIED_CONTEXT = ("request_id", "user_id", "session_id", "ip")
MAX_BACKOFF_SECONDS = 300


def _log_context() -> dict[str, Any]:
    bound = structlog.contextvars.get_contextvars()
    return {key: bound[key] for key in CARRIED_CONTEXT if bound.get(key) is not None}


def outbox_enqueue(
    *,
    task_name: str,
    args: tuple[Any, ...] | list[Any] = (),
    kwargs: dict[str, Any] | None = None,
    queue: str = "",
    countdown: int | None = None,
) -> OutboxMessage:
    """Keeps ``task_name(*args, **kwargs)`` in the caller's transaction; publishes it after commit."""
    message = OutboxMessage.objects.create(
        task_name=task_name,
        args=list(args),
        kwargs=kwargs or {},
        queue=queue,
        eta=timezone.now() + timedelta(seconds=countdown) if countdown else None,
        log_context=_log_context(),
    )
    transaction.on_commit(lambda: _publish_own(message))
    return message


def _send(message: OutboxMessage) -> None:
    from commerce.cache import redis_breaker
    from commerce.celery import app

    options: dict[str, Any] = {"task_id": str(message.task_id), "retry": False}
    if message.queue:
        options["queue"] = message.queue
    if message.eta is not None:
        options["eta"] = message.eta
    # django-structlog's publish receiver copies the bound context into the task's headers.
    with structlog.contextvars.bound_contextvars(**message.log_context):
        breaker = redis_breaker(f"broker {app.conf.broker_url}", PUBLISH_ERRORS)
        breaker.call(app.send_task, message.task_name, args=message.args, kwargs=message.kwargs, **options)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 16)))


def _publish_own(message: OutboxMessage) -> bool:
    """The writing request's publish, after its commit, of the message it holds in memory: no lock and no
    read. The sweep leaves a message alone for ``OUTBOX_SWEEP_GRACE_SECONDS``, so until then nobody else
    publishes it; the status changes only from pending, so a sweep that did (a publish stalled past the
    grace) is never undone. Delivery stays at least once, as it always was (a send whose status update
    is lost is sent again by the sweep). One statement after the send where the locked publish took
    four (a third of a checkout's publish cost, measured)."""
    now = timezone.now()
    try:
        _send(message)
    except PUBLISH_ERRORS as exc:
        _record_failure(message, exc, now)
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING).update(
            attempts=message.attempts,
            last_error=message.last_error,
            status=message.status,
            next_attempt_at=message.next_attempt_at,
        )
        return False
    sent = _mark_sent(message.pk, now)
    if sent:
        PUBLISHED.inc()
    return bool(sent)


MARK_SENT_SQL = (
    'UPDATE "outbox_outboxmessage" SET "status" = %s, "attempts" = "attempts" + 1, "sent_at" = %s '
    'WHERE "id" = %s AND "status" = %s'
)


def _mark_sent(message_id: int, now: datetime) -> int:
    """The request's "sent" after its publish: ``filter(pk, status=pending).update(status=sent,
    attempts=F("attempts") + 1, sent_at=now)`` as SQL written once. Every request that enqueues work
    runs it; through the ORM, building the UPDATE cost a quarter of the publish's CPU (measured in the
    checkout benchmark). Returns the rows changed (0: a sweep had sent it)."""
    connection = connections[router.db_for_write(OutboxMessage)]
    params = [
        OutboxMessage.Status.SENT.value,
        connection.ops.adapt_datetimefield_value(now),
        message_id,
        OutboxMessage.Status.PENDING.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(MARK_SENT_SQL, params)
        return int(cursor.rowcount)


def _record_failure(message: OutboxMessage, exc: BaseException, now: datetime) -> None:
    """A send that failed, on the message in memory: counted, kept for the sweep with a backoff, failed
    for good after ``OUTBOX_MAX_ATTEMPTS``. An open breaker (the broker known down) costs no attempt."""
    PUBLISH_FAILED.inc()
    if not isinstance(exc, pybreaker.CircuitBreakerError):
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        logger.warning(
            "outbox: %s not published (attempt %s), kept for the sweep: %s",
            message.task_name,
            message.attempts,
            exc,
        )
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        message.status = OutboxMessage.Status.FAILED
        logger.error("outbox: %s gave up after %s attempts", message.task_name, message.attempts)
    message.next_attempt_at = now + _backoff(message.attempts)


def outbox_publish(*, message_id: int, now: datetime | None = None) -> bool:
    """Hands one pending message to the broker; True when it was accepted now (the sweep's publish: the
    row is locked, so two sweepers never send it twice)."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
            .first()
        )
        if message is None:  # sent already, or another publisher holds it
            return False
        now = now or timezone.now()
        try:
            _send(message)
        except PUBLISH_ERRORS as exc:
            _record_failure(message, exc, now)
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return False
        message.status = OutboxMessage.Status.SENT
        message.attempts += 1
        message.sent_at = now
        message.save(update_fields=["status", "attempts", "sent_at"])
    PUBLISHED.inc()
    return True


def outbox_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Publishes the pending messages that are due (their request's publish failed or never ran).

    A message younger than ``OUTBOX_SWEEP_GRACE_SECONDS`` is left to the request that wrote it.
    Stops at the first failure: the broker is down, the rest waits for the next sweep.
    """
    now = now or timezone.now()
    grace = timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    due = list(
        OutboxMessage.objects.due(now)
        .filter(created_at__lte=now - grace)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    published = 0
    for message_id in due:
        if outbox_publish(message_id=message_id):
            published += 1
        elif OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING).exists():
            break
    return {"due": len(due), "published": published}


def outbox_retry(*, message_ids: list[int]) -> int:
    """Staff send failed messages again: back to pending, due now, a fresh count of attempts."""
    with transaction.atomic():
        return OutboxMessage.objects.filter(pk__in=message_ids, status=OutboxMessage.Status.FAILED).update(
            status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )


def outbox_purge_sent(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Sent rows are history only; a week of them is kept for inspection."""
    cutoff = timezone.now() - older_than
    deleted, _ = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT, sent_at__lt=cutoff).delete()
    return deleted
