from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Count, Sum
from django.utils import timezone

from carts.models import Cart, CartLine, Discount
from carts.selectors import cart_totals, cart_with_lines
from commerce.money import money_str

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _CartCounts(TypedDict):
    _items: int | None
    _lines: int


# A cart with something in it that has not changed for this long counts as abandoned in the admin.
ABANDONED_AFTER = timedelta(minutes=30)


@admin.register(Discount)
class DiscountAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "kind",
        "value",
        "min_subtotal",
        "starts_at",
        "ends_at",
        "times_used",
        "usage_limit",
        "is_active",
    ]
    list_filter = ["is_active", "kind"]
    search_fields = ["code"]
    readonly_fields = ["times_used"]


class AbandonedFilter(admin.SimpleListFilter):
    title = "abandoned"
    parameter_name = "abandoned"

    def lookups(self, request, model_admin):
        return [("yes", "Abandoned (items, idle over 30 min)"), ("no", "Active or empty")]

    def queryset(self, request, queryset):
        abandoned = Cart.objects.abandoned(idle_since=timezone.now() - ABANDONED_AFTER)
        if self.value() == "yes":
            return queryset.filter(pk__in=abandoned.values("pk"))
        if self.value() == "no":
            return queryset.exclude(pk__in=abandoned.values("pk"))
        return queryset


class CartLineInline(admin.TabularInline):
    model = CartLine
    fields = readonly_fields = ("variant", "quantity", "unit_price", "added_at")
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("variant__product")

    @admin.display(description="unit price")
    def unit_price(self, line: CartLine) -> str:
        return money_str(line.variant.price)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    """Read-only: carts belong to shoppers; staff look (e.g. at abandoned ones) but do not edit."""

    list_display = ["id", "owner", "item_count", "line_count", "discount", "updated_at"]
    list_filter = [AbandonedFilter, "updated_at"]
    search_fields = ["user__email", "session__key"]
    ordering = ["-updated_at"]
    inlines = [CartLineInline]
    fields = readonly_fields = ("owner", "discount", "totals", "created_at", "updated_at")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user", "session", "discount")
            .annotate(_items=Sum("lines__quantity"), _lines=Count("lines"))
        )

    @admin.display(description="owner")
    def owner(self, cart: Cart) -> str:
        if cart.session is None:
            return str(cart.user)
        return f"guest session {cart.session.key[:12]}… ({cart.session.channel})"

    @admin.display(description="items", ordering="_items")
    def item_count(self, cart: WithAnnotations[Cart, _CartCounts]) -> int:
        return cart._items or 0

    @admin.display(description="lines", ordering="_lines")
    def line_count(self, cart: WithAnnotations[Cart, _CartCounts]) -> int:
        return cart._lines

    @admin.display(description="totals")
    def totals(self, cart: Cart) -> str:
        t = cart_totals(cart_with_lines().get(pk=cart.pk))
        return (
            f"subtotal {money_str(t.subtotal)}, discount {money_str(t.discount)}, tax {money_str(t.tax)}, "
            f"shipping {money_str(t.shipping)}, total {money_str(t.total)}"
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewing needs view permission only; returning False keeps every field read-only.
        return False
