from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

# At or below this many units a variant shows "Only N left" and appears in the admin's low-stock list.
LOW_STOCK_THRESHOLD = 5


class Category(models.Model):
    """A node in the category tree (e.g. Footwear > Running Shoes)."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    @property
    def path_names(self) -> list[str]:
        """Names from the root down to this node (walks ``parent``: select_related it for lists)."""
        names: list[str] = []
        node: Category | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return names[::-1]


class ProductQuerySet(models.QuerySet["Product"]):
    def active(self) -> ProductQuerySet:
        return self.filter(is_active=True)

    def in_stock(self) -> ProductQuerySet:
        """Products with at least one variant in stock (one EXISTS on the variants themselves, so it
        holds even after a raw stock update; the cards read the kept ``has_stock`` instead)."""
        return self.filter(_has_stock())

    def sold_out(self) -> ProductQuerySet:
        return self.exclude(_has_stock())


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    brand = models.CharField(max_length=80, db_index=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    description = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    image_url = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The full-text document (name A; brand, categories, tags B; description, colours C). On
    # PostgreSQL a trigger (migration 0002) fills it on every write path, bulk ones included, so
    # it can never go stale; on SQLite it stays empty and search uses the token fallback.
    search = SearchVectorField(null=True, editable=False)
    # A summary of the variants, so a listing filters and sorts products without reading variants. Kept
    # by catalog.services.product_summaries_refresh, which every path that writes variants calls (the
    # import, stock changes, checkout and cancellation, and Variant's model signals for the admin).
    price_min = models.DecimalField(max_digits=10, decimal_places=2, null=True, editable=False)
    price_max = models.DecimalField(max_digits=10, decimal_places=2, null=True, editable=False)
    has_stock = models.BooleanField(default=False, editable=False)
    # Lower-cased, sorted, distinct; colours as their words ("navy blue" -> "blue", "navy"), so on
    # PostgreSQL a GIN index narrows size and colour filters before the exact per-variant check.
    sizes = models.JSONField(default=list, editable=False)
    color_words = models.JSONField(default=list, editable=False)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["is_active", "price_min"], name="product_active_price_idx"),
            models.Index(fields=["is_active", "name"], name="product_active_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:product-detail", args=[self.pk])

    @property
    def price_from(self) -> Decimal | None:
        """Lowest variant price: the kept ``price_min`` column, else (an instance whose variants were
        written after it was read) the prefetched variants."""
        if self.price_min is not None:
            return self.price_min
        prices = [v.price for v in self.variants.all()]
        return min(prices) if prices else None

    @property
    def stock_total(self) -> int:
        return sum(v.stock for v in self.variants.all())

    @property
    def image_src(self) -> str:
        """The image to show: the imported URL, else the generated SVG placeholder."""
        return self.image_url or reverse("catalog:product-image", args=[self.pk])


class VariantQuerySet(models.QuerySet["Variant"]):
    def in_stock(self) -> VariantQuerySet:
        return self.filter(stock__gt=0)

    def low_stock(self) -> VariantQuerySet:
        """Still on sale but at or below ``LOW_STOCK_THRESHOLD`` units ("Only N left")."""
        return self.filter(stock__gt=0, stock__lte=LOW_STOCK_THRESHOLD)


class Variant(models.Model):
    """A buyable size/colour of a product; stock is counted here."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    size = models.CharField(max_length=20, blank=True)
    color = models.CharField(max_length=40, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)

    objects = VariantQuerySet.as_manager()

    class Meta:
        ordering = ["product_id", "id"]
        # "lowest price of a product" and price-range filters read variants by product and price.
        indexes = [models.Index(fields=["product", "price"], name="variant_product_price_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} ({self.size} {self.color}) [{self.sku}]"

    @property
    def label(self) -> str:
        """How shoppers read a variant everywhere: "Cloud Hoodie (size M, black)"."""
        options = [part for part in (f"size {self.size}" if self.size else "", self.color) if part]
        return f"{self.product.name} ({', '.join(options)})" if options else self.product.name

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def is_low_stock(self) -> bool:
        return 0 < self.stock <= LOW_STOCK_THRESHOLD

    @property
    def stock_status(self) -> str:
        """``out``, ``low`` or ``ok``: the CSS class suffix and the state shoppers see."""
        if self.stock <= 0:
            return "out"
        return "low" if self.is_low_stock else "ok"

    @property
    def stock_label(self) -> str:
        if self.stock <= 0:
            return "Sold out"
        return f"Only {self.stock} left" if self.is_low_stock else "In stock"


def _has_stock() -> Exists:
    """The "product has a variant in stock" condition, written once."""
    return Exists(Variant.objects.filter(product=OuterRef("pk"), stock__gt=0))


class StorefrontSettings(models.Model):
    """The home page's words, edited by staff in the admin (one row, created on first edit).

    A blank field is written from the catalog itself (its largest categories and brands), so a store
    that loads another catalog never shows the demo's words."""

    hero_headline = models.CharField(
        max_length=120,
        blank=True,
        help_text="The home page's title. Blank: “Shop” and the top-level categories.",
    )
    hero_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="The sentence under the title. Blank: the largest categories and brands in the catalog.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "storefront settings"

    def __str__(self) -> str:
        return "Storefront settings"
