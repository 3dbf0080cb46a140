"""``manage.py audit_verify``: exit 0 when the audit chain is intact, 1 naming the first bad entry."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from commerce.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Checks the audit trail's hash chain; exits 1 naming the first changed or missing entry."

    def handle(self, *args, **options) -> None:
        result = audit_chain_verify()
        if result.ok:
            self.stdout.write(f"audit chain intact: {result.checked} entries")
            return
        self.stderr.write(f"audit chain broken at entry {result.first_bad_id}: {result.reason}")
        sys.exit(1)
