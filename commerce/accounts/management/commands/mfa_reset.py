from django.core.management.base import BaseCommand, CommandError

from commerce.accounts.models import User
from commerce.accounts.services import mfa_reset


class Command(BaseCommand):
    help = (
        "Removes a staff member's two-factor devices (authenticator app and backup codes), e.g. after a "
        "lost phone. They set up a new one at /account/mfa/ after signing in with their password."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("email", help="The staff member's e-mail address.")

    def handle(self, *args, email: str, **options) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account uses {email}.")
        removed = mfa_reset(user=user)
        self.stdout.write(f"Removed {removed} two-factor device(s) of {user.email}.")
