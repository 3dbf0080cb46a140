from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse

from commerce.audit.admin_actions import AuditedActionsMixin
from commerce.errors import DomainError
from orders.models import (
    AcpCheckoutSession,
    AcpWebhookDelivery,
    IdempotencyRecord,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Refund,
)
from orders.services import order_mark_delivered, order_mark_shipped, order_refund


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku", "name", "size", "color", "unit_price", "quantity", "refunded_quantity"]


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "from_status", "to_status", "actor", "actor_label", "note"]
    readonly_fields = ["created_at"]


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["created_at", "amount", "reason", "lines", "created_by"]
    readonly_fields = ["created_at"]


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = readonly_fields = (
        "gateway",
        "reference",
        "token_masked",
        "status",
        "amount",
        "refunded_amount",
        "created_at",
    )


def _each(modeladmin, request, queryset, action, done: str) -> None:
    ok = 0
    for order in queryset:
        try:
            action(order)
            ok += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{order.number}: {exc.message}", level=messages.ERROR)
    if ok:
        modeladmin.message_user(request, f"{ok} order(s) {done}.", level=messages.SUCCESS)


@admin.register(Order)
class OrderAdmin(AuditedActionsMixin, admin.ModelAdmin):
    list_display = ["number", "user", "status", "total", "created_at"]
    list_filter = ["status", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["number", "user__email", "tracking_number"]
    inlines = [OrderLineInline, PaymentInline, RefundInline, OrderEventInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an order is a record of money and stock: cancel or refund it, never delete it

    fields = (
        "number",
        "user",
        "status",
        "tracking_number",
        "subtotal",
        "discount",
        "discount_code",
        "tax",
        "shipping",
        "total",
        "currency",
        "shipping_address",
        "created_at",
        "paid_at",
        "shipped_at",
        "delivered_at",
        "cancelled_at",
    )
    readonly_fields = tuple(f for f in fields if f != "tracking_number")
    actions = ["mark_shipped", "mark_delivered", "refund_in_full"]

    def has_add_permission(self, request) -> bool:
        return False  # orders come from checkout, never typed in

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm("orders.refund_order")

    @admin.action(description="Mark shipped (asks for tracking numbers)", permissions=["change"])
    def mark_shipped(self, request, queryset):
        """First a page asking each order's tracking number, then the service for each order."""
        if "apply" not in request.POST:
            return TemplateResponse(
                request,
                "orders/admin_mark_shipped.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Mark orders shipped",
                    "opts": self.model._meta,
                    "orders": queryset.select_related("user"),
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                },
            )
        _each(
            self,
            request,
            queryset,
            lambda o: order_mark_shipped(
                order=o,
                actor=request.user,
                tracking_number=request.POST.get(f"tracking_{o.pk}", "") or o.tracking_number,
            ),
            "shipped",
        )
        return None

    @admin.action(description="Mark delivered", permissions=["change"])
    def mark_delivered(self, request, queryset):
        _each(
            self, request, queryset, lambda o: order_mark_delivered(order=o, actor=request.user), "delivered"
        )

    @admin.action(description="Refund in full", permissions=["refund"])
    def refund_in_full(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda o: order_refund(order=o, actor=request.user, reason="Refunded by staff"),
            "refunded",
        )


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["user", "key", "order", "created_at", "expires_at"]
    search_fields = ["key", "user__email"]
    readonly_fields = ["user", "key", "request_hash", "order", "created_at", "expires_at"]

    def has_add_permission(self, request) -> bool:
        return False


class AcpWebhookDeliveryInline(ReadOnlyInline):
    model = AcpWebhookDelivery
    fields = readonly_fields = (
        "created_at",
        "event_type",
        "status",
        "attempts",
        "last_error",
        "delivered_at",
    )


@admin.register(AcpCheckoutSession)
class AcpCheckoutSessionAdmin(admin.ModelAdmin):
    """Agent checkouts (docs/agents.md): read-only; the platform drives them through /acp/."""

    list_display = ["public_id", "state", "order", "created_at", "updated_at"]
    list_filter = ["state", "created_at"]
    search_fields = ["public_id", "order__number"]
    readonly_fields = [
        "public_id",
        "state",
        "shopper_session",
        "currency",
        "buyer",
        "fulfillment_details",
        "messages",
        "order",
        "intent_trace",
        "created_at",
        "updated_at",
        "expires_at",
    ]
    exclude = ["snapshot", "selected_fulfillment_option"]
    inlines = [AcpWebhookDeliveryInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
