"""Writes to carts. Every rule about what a cart may hold lives here, for every channel alike.

Every write touches ``Cart.updated_at``: abandoned-cart detection (voice recovery, the admin's
"abandoned" filter) reads that column, so a cart the shopper is working on must never look idle.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from carts.models import Cart, Discount
from commerce.errors import DomainError, InvalidInput


def _touch(cart: Cart) -> None:
    cart.updated_at = timezone.now()
    Cart.objects.filter(pk=cart.pk).update(updated_at=cart.updated_at)


def cart_get_or_create_for_shopper(*, shopper) -> Cart:
    """The shopper's open cart, created on first use (a user's when signed in, else the session's)."""
    if shopper is None or (shopper.user is None and shopper.session is None):
        raise InvalidInput(
            "No shopper to hold a cart: sign in or send a session id.", code="session_required"
        )
    owner = {"user": shopper.user} if shopper.user is not None else {"session": shopper.session}
    cart = Cart.objects.filter(**owner).first()
    if cart is not None:
        return cart
    try:
        # A savepoint, so that losing a creation race leaves the caller's transaction usable.
        with transaction.atomic():
            return Cart.objects.create(**owner)
    except IntegrityError:  # two first requests of one shopper raced; the other one created it
        return Cart.objects.get(**owner)


def cart_clear(*, cart: Cart) -> None:
    """Empties the cart: lines and discount code go (after an order, nothing should linger)."""
    with transaction.atomic():
        cart.lines.all().delete()
        if cart.discount_id is not None:
            cart.discount = None
            Cart.objects.filter(pk=cart.pk).update(discount=None)
        _touch(cart)


def discount_record_use(*, discount: Discount) -> None:
    """Counts one use of ``discount`` (an order placed with it); refuses past the usage limit.

    A conditional UPDATE, so two orders racing for the last use cannot both get it.
    """
    with transaction.atomic():
        updated = (
            Discount.objects.filter(pk=discount.pk)
            .filter(Q(usage_limit__isnull=True) | Q(times_used__lt=F("usage_limit")))
            .update(times_used=F("times_used") + 1)
        )
        if updated != 1:
            raise DomainError(
                f"Discount code {discount.code} has been used up.",
                code="discount_exhausted",
                details={"code": discount.code},
            )
        discount.refresh_from_db(fields=["times_used"])
