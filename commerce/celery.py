import logging
import math
import os

import redis
from celery import Celery, signals
from django.db import close_old_connections
from django_structlog.celery.steps import DjangoStructLogInitStep

from commerce.metrics import connect_worker_metrics, scrape_gauge

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")

app = Celery("commerce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_worker_metrics(app)

# Broker queues whose waiting tasks the backlog gauge counts: Celery's default and the voice queue.
BACKLOG_QUEUES_SETTING = "VOICE_CELERY_QUEUE"


@scrape_gauge("commerce_celery_queue_length", "Tasks waiting in the broker (default and voice queues).")
def celery_queue_length() -> float:
    """``LLEN`` of each queue list in the Redis broker; NaN without a broker (the embedded run)."""
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL.startswith(
        ("redis://", "rediss://")
    ):
        return math.nan
    queues = {app.conf.task_default_queue or "celery", os.environ.get(BACKLOG_QUEUES_SETTING, "")} - {""}
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        return float(sum(client.llen(queue) for queue in queues))
    finally:
        client.close()


@signals.task_prerun.connect(weak=False, dispatch_uid="commerce.celery.connections")
@signals.task_postrun.connect(weak=False, dispatch_uid="commerce.celery.connections")
def database_connections_checked(sender: object = None, **_: object) -> None:
    """Between a worker's tasks, its database connection is kept or closed as between requests
    (``CELERY_DB_REUSE_MAX`` stops Celery's fixup from closing it around every task): closed when an
    error left it unusable or it is older than ``CONN_MAX_AGE``, health-checked before its next use.
    Not for a task run eagerly, inside the caller's request and maybe its transaction."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    close_old_connections()


# django-structlog in the worker: each task runs with the request id, user id and session id of the
# request that published it (carried in the task's headers), plus its own task_id.
app.steps["worker"].add(DjangoStructLogInitStep)

logger = logging.getLogger(__name__)


def enqueue(
    task,
    *,
    args: tuple = (),
    kwargs: dict | None = None,
    queue: str = "",
    countdown: int | None = None,
    robust: bool = False,
) -> None:
    """Hands ``task`` to Celery once the caller's transaction commits; nothing if it rolls back.

    With a broker the task goes through the transactional outbox (:mod:`commerce.outbox`): a row in
    the caller's transaction, published after commit and again by beat's sweep if the broker was down,
    so work decided in a request is never lost. Eager (the embedded run, tests) it runs here after
    commit. Read at call time (not from the app's configuration at start-up), so a test or an operator
    that switches ``CELERY_TASK_ALWAYS_EAGER`` is obeyed. ``robust``: when run eagerly, a task that
    still fails after its retries is logged instead of raised into the request (for work, like an
    e-mail, whose failure must not fail the request; with a broker it is a failed task for staff).
    """
    from django.conf import settings
    from django.db import transaction

    if countdown and countdown > settings.CELERY_LONGEST_ETA_SECONDS:
        # A longer ETA would outlive the broker's visibility timeout and be delivered twice.
        longest = settings.CELERY_LONGEST_ETA_SECONDS
        logger.warning("%s: countdown %ss clamped to %ss", task.name, countdown, longest)
        countdown = longest
    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: task.apply(args, kwargs or {}), robust=robust)
        return
    from commerce.outbox.services import outbox_enqueue

    outbox_enqueue(task_name=task.name, args=args, kwargs=kwargs, queue=queue, countdown=countdown)
