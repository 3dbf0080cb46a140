"""Seeds the store policy answers the assistant quotes; safe to repeat.

A policy whose title already exists is left alone, so answers staff edited in the admin survive
``make run``; ``--reset`` rewrites them to the defaults.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from conversations.assistant.policies import default_policies
from conversations.models import StorePolicy


class Command(BaseCommand):
    help = (
        "Create the default store policies (shipping, returns, sizing, payment) the assistant answers from."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Overwrite existing policies of the same title."
        )

    def handle(self, *args, reset: bool = False, **options) -> None:
        created = updated = 0
        with transaction.atomic():
            for data in default_policies():
                title = data["title"]
                fields = {k: v for k, v in data.items() if k != "title"}
                if reset:
                    _, was_created = StorePolicy.objects.update_or_create(title=title, defaults=fields)
                    created, updated = created + was_created, updated + (not was_created)
                else:
                    _, was_created = StorePolicy.objects.get_or_create(title=title, defaults=fields)
                    created += was_created
        self.stdout.write(f"Store policies: {created} created, {updated} reset.")
