"""Demo discount codes, created or reset idempotently (``make run`` calls this after the catalog)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from carts.models import Discount


def demo_discounts(now) -> list[dict]:
    return [
        {
            "code": "SAVE10",
            "kind": Discount.Kind.PERCENT,
            "value": Decimal("10.00"),
            "min_subtotal": Decimal("0.00"),
            "ends_at": None,
        },
        {
            "code": "WELCOME5",
            "kind": Discount.Kind.FIXED,
            "value": Decimal("5.00"),
            "min_subtotal": Decimal("50.00"),
            "ends_at": None,
        },
        {
            # Shows how an expired code is refused.
            "code": "EXPIRED20",
            "kind": Discount.Kind.PERCENT,
            "value": Decimal("20.00"),
            "min_subtotal": Decimal("0.00"),
            "starts_at": now - timedelta(days=60),
            "ends_at": now - timedelta(days=30),
        },
    ]


class Command(BaseCommand):
    help = "Creates the demo discount codes SAVE10, WELCOME5 and EXPIRED20 (safe to run again)."

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        with transaction.atomic():
            for spec in demo_discounts(now):
                code = spec.pop("code")
                defaults = {"is_active": True, "usage_limit": None, **spec}
                discount, created = Discount.objects.get_or_create(code=code, defaults=defaults)
                if not created:
                    # Keep times_used and the start date; restore the terms a demo relies on.
                    for field, value in defaults.items():
                        if field != "starts_at":
                            setattr(discount, field, value)
                    discount.save()
                self.stdout.write(f"{'created' if created else 'kept'} discount {code}")
