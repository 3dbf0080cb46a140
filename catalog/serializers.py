"""The contract's ``Product`` JSON (CONTRACT.md section 2, Catalog), for the API and other apps.

:func:`product_to_dict` is what every channel returns for a product (the assistant's ``Reply``
carries the same dicts). It reads only prefetched variants, so a list costs no extra query per item.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework import serializers

from catalog.models import Product, Variant
from catalog.selectors import cached_many
from commerce.money import money_str


def _variant_dict(*, pk: int, sku: str, size: str, color: str, price: Decimal, stock: int) -> dict[str, Any]:
    return {
        "id": str(pk),
        "sku": sku,
        "size": size,
        "color": color,
        "price": money_str(price),
        "stock": stock,
        "inStock": stock > 0,
    }


def variant_to_dict(variant: Variant) -> dict[str, Any]:
    return _variant_dict(
        pk=variant.pk,
        sku=variant.sku,
        size=variant.size,
        color=variant.color,
        price=variant.price,
        stock=variant.stock,
    )


def _product_dict(product: Product, variants: list[dict[str, Any]]) -> dict[str, Any]:
    price = product.price_from
    return {
        "id": str(product.pk),
        "name": product.name,
        "slug": product.slug,
        "brand": product.brand,
        "category": product.category.name,
        "description": product.description,
        "price": money_str(price) if price is not None else None,
        "currency": settings.CURRENCY,
        "imageUrl": product.image_src,
        "tags": list(product.tags or []),
        "variants": variants,
    }


def product_to_dict(product: Product) -> dict[str, Any]:
    """``Product``: ids are strings, money two-place strings, ``price`` the lowest variant price."""
    return _product_dict(product, [variant_to_dict(v) for v in product.variants.all()])


def product_dicts(products: Iterable[Product]) -> list[dict[str, Any]]:
    """:func:`product_to_dict` for a page of products whose variants were not prefetched: one query reads
    them as plain rows (a page of 24 products can hold a thousand variants; no model instances)."""
    products = list(products)
    variants: dict[int, list[dict[str, Any]]] = {p.pk: [] for p in products}
    rows = (
        Variant.objects.filter(product_id__in=list(variants))
        .order_by("id")
        .values_list("product_id", "id", "sku", "size", "color", "price", "stock")
    )
    for product_id, pk, sku, size, color, price, stock in rows:
        variants[product_id].append(
            _variant_dict(pk=pk, sku=sku, size=size, color=color, price=price, stock=stock)
        )
    return [_product_dict(p, variants[p.pk]) for p in products]


def product_dicts_by_id(ids: list[int]) -> list[dict[str, Any]]:
    """:func:`product_dicts` for products named by id (a page of a cached search), in that order.

    What is the same for every caller -- a product with its variants, less their stock -- is cached per
    product under the listing version that every catalog write bumps (prices, names, variants added or
    removed, a category renamed); the stock of every variant is read fresh in one query, so a sale shows
    at once. Products no longer found (deactivated since the search) are left out.
    """

    def build(names: list[str]) -> dict[str, dict[str, Any]]:
        wanted = [int(name.rsplit(":", 1)[1]) for name in names]
        fresh = Product.objects.active().select_related("category").filter(pk__in=wanted)
        return {f"product-json:{d['id']}": d for d in product_dicts(fresh)}

    cached = cached_many([f"product-json:{pk}" for pk in ids], build)
    stock = dict(Variant.objects.filter(product_id__in=ids).values_list("id", "stock"))
    items = []
    for pk in ids:
        product = cached.get(f"product-json:{pk}")
        if product is None:
            continue
        variants = []
        for variant in product["variants"]:
            count = stock.get(int(variant["id"]))
            if count is not None:  # a variant deleted since is a catalog write: a new version anyway
                variants.append({**variant, "stock": count, "inStock": count > 0})
        items.append({**product, "variants": variants})
    return items


# Output serializers: they document the shape for /api/schema/; the views build dicts directly.
class VariantOut(serializers.Serializer):
    id = serializers.CharField()
    sku = serializers.CharField()
    size = serializers.CharField()
    color = serializers.CharField()
    price = serializers.CharField(help_text='Decimal string with two places, e.g. "129.99".')
    stock = serializers.IntegerField()
    inStock = serializers.BooleanField()


class ProductOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    brand = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    price = serializers.CharField(
        allow_null=True, help_text="Lowest variant price, two-place decimal string."
    )
    currency = serializers.CharField()
    imageUrl = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    variants = VariantOut(many=True)


class ProductListOut(serializers.Serializer):
    items = ProductOut(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    correctedQuery = serializers.CharField(  # noqa: N815 (the contract's camelCase)
        required=False,
        help_text="Present when a word of the query was misspelt: what was searched for instead.",
    )
