"""``python manage.py outbox_sweep``: what beat's ``outbox.sweep`` does, for an operator after an outage."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from commerce.outbox.selectors import outbox_backlog
from commerce.outbox.services import outbox_sweep


class Command(BaseCommand):
    help = "Publish the outbox's pending Celery tasks that are due (what beat does every sweep)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = outbox_sweep()
        backlog = outbox_backlog()
        self.stdout.write(
            f"due {result['due']}, published {result['published']}; "
            f"pending {backlog['pending']}, failed {backlog['failed']}"
        )
