from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# No 0/O, 1/I/L: an order number is read aloud and typed into chat ("cancel order 4F7K2Q").
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
NUMBER_LENGTH = 6


def new_order_number() -> str:
    """Six characters mixing letters and digits: a letters-only code would read as a word in chat
    ("cancel order STATUS"), so the assistant only takes mixed codes as order numbers."""
    while True:
        number = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))
        if any(c.isdigit() for c in number) and any(c.isalpha() for c in number):
            return number


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"

    number = models.CharField(max_length=12, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    currency = models.CharField(max_length=3, default="USD")
    subtotal = models.DecimalField(max_digits=10, decimal_places=2)
    discount = models.DecimalField(max_digits=10, decimal_places=2)
    discount_code = models.CharField(max_length=40, blank=True)
    tax = models.DecimalField(max_digits=10, decimal_places=2)
    shipping = models.DecimalField(max_digits=10, decimal_places=2)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    shipping_address = models.JSONField()
    payment_method_type = models.CharField(max_length=20, default="card")
    # Only test-gateway tokens are kept (so chat checkout can reuse them); a real gateway would keep
    # its own customer/payment-method id here instead of anything card-like.
    payment_token = models.CharField(max_length=80, blank=True)
    tracking_number = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Shipping is "change"; a refund moves money, so it is a permission of its own.
        permissions = [("refund_order", "Can refund orders")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gte=0) & Q(discount__gte=0), name="order_money_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.number

    def can_cancel(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.PAID)

    def can_change_address(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.PAID)

    def can_ship(self) -> bool:
        return self.status == self.Status.PAID

    def can_deliver(self) -> bool:
        return self.status == self.Status.SHIPPED

    def return_window_ends_at(self):
        if self.delivered_at is None:
            return None
        return self.delivered_at + timedelta(days=settings.RETURN_WINDOW_DAYS)

    def can_refund(self, now=None) -> bool:
        now = now or timezone.now()
        ends = self.return_window_ends_at()
        return (
            self.status in (self.Status.DELIVERED, self.Status.PARTIALLY_REFUNDED)
            and ends is not None
            and now <= ends
        )


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", null=True, on_delete=models.SET_NULL, related_name="+")
    product_id = models.BigIntegerField()
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    size = models.CharField(max_length=20, blank=True)
    color = models.CharField(max_length=40, blank=True)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveSmallIntegerField()
    refunded_quantity = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_quantity__lte=F("quantity")), name="refund_within_bought"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def refundable_quantity(self) -> int:
        return self.quantity - self.refunded_quantity


class OrderEvent(models.Model):
    """One status change (or address change), with who made it and when.

    The history outlives its order: deleting an order (a database operation; the admin never allows it)
    keeps its events, with the order's number."""

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    order_number = models.CharField(max_length=32, blank=True, db_index=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=20)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_number}: {self.from_status or '-'} -> {self.to_status}"


class Payment(models.Model):
    """The approved charge of an order (a declined one rolls back with the order and leaves nothing)."""

    class Status(models.TextChoices):
        CAPTURED = "captured", "Captured"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="payment")
    gateway = models.CharField(max_length=30)
    reference = models.CharField(max_length=80)
    # Never the token itself: its kind and last four characters, for receipts and the admin.
    token_masked = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CAPTURED)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    refunded_amount = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("amount")), name="payment_refund_within_amount"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.reference} {self.amount}"


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    reason = models.CharField(max_length=500, blank=True)
    lines = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Refund {self.amount} on {self.order.number}"


class IdempotencyRecord(models.Model):
    """One order request per user and key; the unique constraint decides a race between two."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    order = models.ForeignKey(Order, null=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_one_per_user_key")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


def _new_confirmation_id() -> str:
    return "chk_" + secrets.token_urlsafe(18)


def _confirmation_expiry():
    return timezone.now() + timedelta(seconds=settings.CHECKOUT_CONFIRMATION_TTL_SECONDS)


class CheckoutConfirmation(models.Model):
    """What an outside agent's ``prepare_checkout`` showed the shopper: the total, the address and the
    payment method on file, bound to the cart as it was. ``place_order`` needs its id: once, before it
    expires, and only while the cart is still the one shown (CONTRACT.md section 6, "Outside agents").
    """

    public_id = models.CharField(max_length=40, unique=True, default=_new_confirmation_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    total = models.DecimalField(max_digits=10, decimal_places=2)
    # SHA-256 over the cart's lines, prices and discount when shown: a changed cart needs a new prepare.
    cart_fingerprint = models.CharField(max_length=64)
    shipping_address = models.JSONField()
    payment_method = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_confirmation_expiry)
    used_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.public_id

    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


# Agent checkout sessions live beside the order code that serves them (orders/acp/).
from orders.acp.models import AcpCheckoutSession, AcpIdempotencyRecord, AcpWebhookDelivery  # noqa: E402

__all__ = [
    "AcpCheckoutSession",
    "AcpIdempotencyRecord",
    "AcpWebhookDelivery",
    "CheckoutConfirmation",
    "IdempotencyRecord",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Payment",
    "Refund",
]
