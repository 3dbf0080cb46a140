"""Back office for the catalog: categories, products with variant inlines, low-stock variants."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from catalog.models import (
    LOW_STOCK_THRESHOLD,
    Category,
    Product,
    ProductQuerySet,
    StorefrontSettings,
    Variant,
    VariantQuerySet,
)
from catalog.selectors import storefront_hero
from catalog.services import variant_adjust_stock
from commerce.audit.admin_actions import AuditedActionsMixin
from commerce.errors import DomainError

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _CategoryCounts(TypedDict):
    n_products: int


class _ProductCounts(TypedDict):
    n_variants: int
    stock_sum: int | None


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["tree_name", "slug", "parent", "position", "product_count"]
    list_editable = ["position"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ["parent"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(n_products=Count("products"))

    @admin.display(description="Category", ordering="name")
    def tree_name(self, obj: Category) -> str:
        return f"{obj.parent.name} › {obj.name}" if obj.parent is not None else obj.name

    @admin.display(description="Products", ordering="n_products")
    def product_count(self, obj: WithAnnotations[Category, _CategoryCounts]) -> int:
        return obj.n_products


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 1
    fields = ["sku", "size", "color", "price", "stock"]


class InStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("in", "In stock"), ("out", "Sold out")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() == "in":
            return cast(ProductQuerySet, queryset).in_stock()  # ProductAdmin lists Product.objects
        if self.value() == "out":
            return cast(ProductQuerySet, queryset).sold_out()
        return queryset


class BrandFilter(admin.SimpleListFilter):
    title = "brand"
    parameter_name = "brand"

    def lookups(self, request, model_admin):
        brands = Product.objects.order_by("brand").values_list("brand", flat=True).distinct()
        return [(b, b) for b in brands]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        return queryset.filter(brand=self.value()) if self.value() else queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "category", "variant_count", "total_stock", "is_active", "created_at"]
    list_filter = [("category", admin.RelatedOnlyFieldListFilter), BrandFilter, InStockFilter, "is_active"]
    search_fields = ["name", "brand", "slug", "description", "variants__sku"]
    list_select_related = ["category"]
    prepopulated_fields = {"slug": ("brand", "name")}
    inlines = [VariantInline]
    readonly_fields = ["created_at", "updated_at"]
    fields = ["name", "slug", "brand", "category", "description", "tags", "image_url", "is_active"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return (
            super()
            .get_queryset(request)
            .defer("search")
            .annotate(n_variants=Count("variants"), stock_sum=Sum("variants__stock"))
        )

    @admin.display(description="Variants", ordering="n_variants")
    def variant_count(self, obj: WithAnnotations[Product, _ProductCounts]) -> int:
        return obj.n_variants

    @admin.display(description="Stock", ordering="stock_sum")
    def total_stock(self, obj: WithAnnotations[Product, _ProductCounts]) -> int:
        return obj.stock_sum or 0


class LowStockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("low", f"Low (1–{LOW_STOCK_THRESHOLD})"), ("out", "Sold out"), ("ok", "In stock")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Variant]) -> QuerySet[Variant]:
        if self.value() == "low":
            return cast(VariantQuerySet, queryset).low_stock()
        if self.value() == "out":
            return queryset.filter(stock=0)
        if self.value() == "ok":
            return queryset.filter(stock__gt=0)
        return queryset


class AdjustStockForm(forms.Form):
    delta = forms.IntegerField(
        label="Change stock by",
        min_value=-100_000,
        max_value=100_000,
        help_text="A positive number adds units, a negative one removes them; stock never goes below 0.",
    )


@admin.register(Variant)
class VariantAdmin(AuditedActionsMixin, admin.ModelAdmin):
    """Low-stock work list: filter by level, edit stock in place, or adjust many at once."""

    list_display = ["sku", "product", "size", "color", "price", "stock", "stock_state"]
    list_editable = ["stock"]
    list_filter = [LowStockFilter, ("product__category", admin.RelatedOnlyFieldListFilter), "product__brand"]
    search_fields = ["sku", "product__name", "product__brand"]
    list_select_related = ["product"]
    ordering = ["stock", "sku"]
    raw_id_fields = ["product"]
    actions = ["adjust_stock"]

    @admin.display(description="State")
    def stock_state(self, obj: Variant) -> str:
        return obj.stock_label

    @admin.action(description="Adjust stock of selected variants…", permissions=["change"])
    def adjust_stock(self, request: HttpRequest, queryset: QuerySet[Variant]) -> HttpResponse | None:
        # An intermediate page: the first POST (from the changelist) shows the form, the second applies it.
        form = AdjustStockForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            try:
                changed = variant_adjust_stock(
                    variant_ids=list(queryset.values_list("pk", flat=True)), delta=form.cleaned_data["delta"]
                )
            except DomainError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
                return None
            self.message_user(
                request,
                f"Changed stock by {form.cleaned_data['delta']:+d} on {changed} variant(s).",
                level=messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "catalog/admin_adjust_stock.html",
            {
                **self.admin_site.each_context(request),
                "title": "Adjust stock",
                "opts": self.model._meta,
                "form": form,
                "variants": queryset.select_related("product")[:200],
                "count": queryset.count(),
                "selected_ids": list(queryset.values_list("pk", flat=True)),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(StorefrontSettings)
class StorefrontSettingsAdmin(admin.ModelAdmin):
    """One row: the list opens it (creating it blank on first visit); it cannot be added twice or deleted."""

    fields = ["hero_headline", "hero_text", "shown_now"]
    readonly_fields = ["shown_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StorefrontSettings | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        StorefrontSettings.objects.get_or_create(pk=1)
        return redirect(reverse("admin:catalog_storefrontsettings_change", args=[1]))

    @admin.display(description="Shown on the home page now")
    def shown_now(self, obj: StorefrontSettings) -> str:
        hero = storefront_hero()
        return f"{hero.headline} — {hero.text}" if hero.text else hero.headline
