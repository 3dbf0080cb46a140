"""Waiting for a Celery worker thread's stored result in tests."""

from __future__ import annotations

import time
from typing import Any

from django.db import OperationalError


def wait_for_task_result(seconds: float = 20, **filters: Any) -> bool:
    """Polls django-celery-results' table until a row matches ``filters`` (True) or ``seconds`` pass.

    The embedded pass's SQLite test database (shared in memory) refuses a read while the worker thread
    writes that table ("database table is locked"): such a read is simply tried again."""
    from django_celery_results.models import TaskResult

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = TaskResult.objects.filter(**filters).exists()
        except OperationalError:  # the worker is writing the row: read again after the pause
            found = False
        if found:
            return True
        time.sleep(0.2)
    return False
