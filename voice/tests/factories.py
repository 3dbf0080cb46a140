"""Test data for voice recovery: consenting shoppers and abandoned carts."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from carts.models import Cart, CartLine
from catalog.tests.factories import VariantFactory
from commerce.accounts.tests.factories import UserFactory
from voice.models import JobState, RecoveryJob


def shopper(**overrides):
    fields = {"phone": "+14155550123", "timezone": "UTC", "voice_opt_in": True, "name": "Ada Lovelace"}
    fields.update(overrides)
    return UserFactory(**fields)


def abandoned_cart(user, *, minutes_ago: int = 60, lines: int = 1, at: datetime | None = None, price="49.99"):
    updated_at = at or timezone.now() - timedelta(minutes=minutes_ago)
    cart = Cart.objects.create(user=user, updated_at=updated_at)
    for _ in range(lines):
        CartLine.objects.create(cart=cart, variant=VariantFactory(price=Decimal(price)), quantity=1)
    Cart.objects.filter(pk=cart.pk).update(updated_at=updated_at)
    cart.refresh_from_db()
    return cart


def job_for(cart, *, state: str = JobState.QUEUED, due: datetime | None = None, **fields) -> RecoveryJob:
    return RecoveryJob.objects.create(
        user=cart.user,
        cart=cart,
        recovery_key=RecoveryJob.key_for(cart.pk, cart.updated_at),
        cart_updated_at=cart.updated_at,
        state=state,
        next_attempt_at=due or timezone.now(),
        **fields,
    )
