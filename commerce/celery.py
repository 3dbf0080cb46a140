import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")

app = Celery("commerce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue(
    task, *, args: tuple = (), kwargs: dict | None = None, queue: str = "", countdown: int | None = None
) -> None:
    """Queues ``task``; runs it right here when Celery is eager (the embedded run, tests).

    Read at call time (not from the app's configuration at start-up), so a test or an operator that
    switches ``CELERY_TASK_ALWAYS_EAGER`` is obeyed. Callers in a transaction wrap this in
    ``transaction.on_commit`` so a task never sees rows that were rolled back.
    """
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        task.apply(args, kwargs or {})
        return
    options: dict = {}
    if queue:
        options["queue"] = queue
    if countdown:
        options["countdown"] = countdown
    task.apply_async(args, kwargs or {}, **options)
