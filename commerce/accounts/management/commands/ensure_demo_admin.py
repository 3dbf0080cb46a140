from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from commerce.accounts.models import User

DEMO_EMAIL = "admin@example.com"
DEMO_PASSWORD = "AdminPass123!"


class Command(BaseCommand):
    help = (
        "Creates the demo staff account (admin@example.com / AdminPass123!) when it is missing. "
        "Only in the embedded or DEBUG run, or with --demo: its password is public (README)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Create it even on a production-shaped site (a throwaway demo deployment).",
        )

    def handle(self, *args, **options) -> None:
        if not (settings.EMBEDDED or settings.DEBUG or options["demo"]):
            # A superuser whose password is printed in the README must never appear on a real site.
            raise CommandError(
                "Refusing to create the demo staff account outside the embedded or DEBUG run: its "
                "password is public. Create the first staff account with `python manage.py "
                "createsuperuser`, or pass --demo for a throwaway demo site."
            )
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            User.objects.create_superuser(email=DEMO_EMAIL, password=DEMO_PASSWORD, name="Demo Admin")
            self.stdout.write(f"Created demo staff account {DEMO_EMAIL} / {DEMO_PASSWORD}")
        else:
            self.stdout.write(f"Demo staff account: {DEMO_EMAIL} / {DEMO_PASSWORD}")
