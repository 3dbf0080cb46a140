import logging
import os

from celery import Celery
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")

app = Celery("commerce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# django-structlog in the worker: each task runs with the request id, user id and session id of the
# request that published it (carried in the task's headers), plus its own task_id.
app.steps["worker"].add(DjangoStructLogInitStep)

logger = logging.getLogger(__name__)


def enqueue(
    task, *, args: tuple = (), kwargs: dict | None = None, queue: str = "", countdown: int | None = None
) -> None:
    """Hands ``task`` to Celery once the caller's transaction commits; nothing if it rolls back.

    With a broker the task goes through the transactional outbox (:mod:`commerce.outbox`): a row in
    the caller's transaction, published after commit and again by beat's sweep if the broker was down,
    so work decided in a request is never lost. Eager (the embedded run, tests) it runs here after
    commit. Read at call time (not from the app's configuration at start-up), so a test or an operator
    that switches ``CELERY_TASK_ALWAYS_EAGER`` is obeyed.
    """
    from django.conf import settings
    from django.db import transaction

    if countdown and countdown > settings.CELERY_LONGEST_ETA_SECONDS:
        # A longer ETA would outlive the broker's visibility timeout and be delivered twice.
        longest = settings.CELERY_LONGEST_ETA_SECONDS
        logger.warning("%s: countdown %ss clamped to %ss", task.name, countdown, longest)
        countdown = longest
    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: task.apply(args, kwargs or {}))
        return
    from commerce.outbox.services import outbox_enqueue

    outbox_enqueue(task_name=task.name, args=args, kwargs=kwargs, queue=queue, countdown=countdown)
