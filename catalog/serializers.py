"""The contract's ``Product`` JSON (CONTRACT.md section 2, Catalog), for the API and other apps.

:func:`product_to_dict` is what every channel returns for a product (the assistant's ``Reply``
carries the same dicts). It reads only prefetched variants, so a list costs no extra query per item.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from catalog.models import Product, Variant
from commerce.money import money_str


def variant_to_dict(variant: Variant) -> dict[str, Any]:
    return {
        "id": str(variant.pk),
        "sku": variant.sku,
        "size": variant.size,
        "color": variant.color,
        "price": money_str(variant.price),
        "stock": variant.stock,
        "inStock": variant.stock > 0,
    }


def product_to_dict(product: Product) -> dict[str, Any]:
    """``Product``: ids are strings, money two-place strings, ``price`` the lowest variant price."""
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
        "variants": [variant_to_dict(v) for v in product.variants.all()],
    }


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
