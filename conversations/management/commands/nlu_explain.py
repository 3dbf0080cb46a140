"""``python manage.py nlu_explain "text"``: how the rules read one message, and why."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from conversations.assistant.nlu.explain import explain, format_explanation


class Command(BaseCommand):
    help = (
        "Print how the assistant's rules read a message: the normalised text, the row that read each "
        "clause, the rows before it and why they did not, the intents with their slots and confidence."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text", help="the message, as a shopper would type it")
        parser.add_argument(
            "--pending-confirmation", action="store_true", help="read it as the answer to a yes/no question"
        )
        parser.add_argument(
            "--pending-clarification", default=None, help="the slot just asked for (size, ...)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        context = {
            "pending_confirmation": options["pending_confirmation"],
            "pending_clarification": options["pending_clarification"],
        }
        self.stdout.write(format_explanation(explain(options["text"], context=context)))
