from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

if TYPE_CHECKING:
    from catalog.models import Variant


class Discount(models.Model):
    class Kind(models.TextChoices):
        PERCENT = "percent", "Percent off"
        FIXED = "fixed", "Fixed amount off"

    code = models.CharField(
        max_length=40, unique=True, help_text="Stored upper-case; shoppers may type any case."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERCENT)
    value = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    min_subtotal = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    times_used = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__lte=100), name="discount_percent_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs) -> None:
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)

    def is_usable(self, *, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.is_active
            and self.starts_at <= now
            and (self.ends_at is None or now < self.ends_at)
            and (self.usage_limit is None or self.times_used < self.usage_limit)
        )


class CartQuerySet(models.QuerySet["Cart"]):
    def with_lines(self) -> CartQuerySet:
        return self.filter(Exists(CartLine.objects.filter(cart=OuterRef("pk"))))

    def abandoned(self, *, idle_since) -> CartQuerySet:
        """Carts holding something that nobody has touched since ``idle_since``."""
        return self.with_lines().filter(updated_at__lt=idle_since)


class AbandonmentReason(models.TextChoices):
    """Why a shopper left a cart, as they (or their agent) said it; voice recovery follows it."""

    TOO_EXPENSIVE = "too_expensive", "Too expensive"
    SHIPPING_COST = "shipping_cost", "Shipping costs too much"
    UNDECIDED = "undecided", "Still deciding"
    DECLINED = "declined", "Does not want it"
    OTHER = "other", "Other reason"


class Cart(models.Model):
    """One open cart per signed-in user or per guest session (never both)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="cart"
    )
    session = models.OneToOneField(
        "accounts.ShopperSession", null=True, blank=True, on_delete=models.CASCADE, related_name="cart"
    )
    discount = models.ForeignKey(
        Discount, null=True, blank=True, on_delete=models.SET_NULL, related_name="carts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Last change by the shopper; abandoned-cart detection scans this column.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The latest reason the shopper gave for leaving (chat or an agent's ACP intent_trace); cleared
    # with the cart at checkout.
    abandonment_reason = models.CharField(max_length=20, choices=AbandonmentReason.choices, blank=True)
    abandonment_source = models.CharField(max_length=20, blank=True, help_text="chat or acp")
    abandonment_note = models.CharField(max_length=500, blank=True)
    abandonment_reason_at = models.DateTimeField(null=True, blank=True)

    objects = CartQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, session__isnull=True)
                | Q(user__isnull=True, session__isnull=False),
                name="cart_owned_by_user_xor_session",
            )
        ]

    def __str__(self) -> str:
        return f"Cart {self.pk} of {self.user or self.session}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="cart_lines")
    quantity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(settings.CART_MAX_LINE_QUANTITY)]
    )
    added_at = models.DateTimeField(auto_now_add=True)
    # Not a column: the cart page's size/colour choices for this line (carts.views sets it).
    options: list[Variant]

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_line_one_per_variant"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=50), name="cart_line_quantity_1_to_50"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant.sku}"
