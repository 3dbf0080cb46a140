from django.core.management.base import BaseCommand

from commerce.accounts.models import User

DEMO_EMAIL = "admin@example.com"
DEMO_PASSWORD = "AdminPass123!"


class Command(BaseCommand):
    help = "Creates the demo staff account (admin@example.com / AdminPass123!) when it is missing."

    def handle(self, *args, **options) -> None:
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            User.objects.create_superuser(email=DEMO_EMAIL, password=DEMO_PASSWORD, name="Demo Admin")
            self.stdout.write(f"Created demo staff account {DEMO_EMAIL} / {DEMO_PASSWORD}")
        else:
            self.stdout.write(f"Demo staff account: {DEMO_EMAIL} / {DEMO_PASSWORD}")
