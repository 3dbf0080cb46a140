from django.core.management.base import BaseCommand

from orders.services import idempotency_records_purge


class Command(BaseCommand):
    help = "Deletes expired order idempotency records (older than IDEMPOTENCY_TTL_HOURS)."

    def handle(self, *args, **options) -> None:
        deleted = idempotency_records_purge()
        self.stdout.write(f"Deleted {deleted} expired idempotency record(s).")
