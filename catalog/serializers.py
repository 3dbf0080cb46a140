"""The contract's ``Product`` JSON (CONTRACT.md section 2, Catalog), for the API and other apps.

:func:`product_to_dict` is what every channel returns for a product (the assistant's ``Reply``
carries the same dicts). It reads only prefetched variants, so a list costs no extra query per item.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework import serializers

from catalog.models import Product, Variant
from catalog.selectors import cached_many, variant_stock_by_id
from commerce.jsontext import loads_text
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


# Each variant's stock inside a cached product's JSON text: the text is cut there and the fresh figures
# go between the pieces. json.dumps writes the mark as the six characters \u0000 inside quotes, which a
# string value cannot produce unescaped (its quotes are escaped), so only the marked places match.
_STOCK_MARK = "\x00"
_STOCK_SLOT = '"stock":"\\u0000","inStock":"\\u0000"'


def dumps_json(value: Any) -> str:
    """JSON text as the API's renderer writes it (DRF's JSONRenderer: compact, UTF-8, not ASCII-escaped)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _product_json_pieces(product: dict[str, Any]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The product's JSON cut where each variant's stock goes: ``(variant ids, pieces)`` with one piece
    more than variants, so ``pieces[0] + stock(v0) + pieces[1] + ... + pieces[-1]`` is the JSON."""
    marked = [{**v, "stock": _STOCK_MARK, "inStock": _STOCK_MARK} for v in product["variants"]]
    pieces = tuple(dumps_json({**product, "variants": marked}).split(_STOCK_SLOT))
    ids = tuple(int(v["id"]) for v in product["variants"])
    if len(pieces) != len(ids) + 1:  # cannot happen with json.dumps; a wrong cut must never be served
        raise ValueError(f"product {product['id']}: {len(pieces)} pieces for {len(ids)} variants")
    return ids, pieces


def _stock_text(count: int) -> str:
    return f'"stock":{count},"inStock":{"true" if count > 0 else "false"}'


def product_json_by_id(ids: list[int]) -> list[str]:
    """The contract's ``Product`` JSON text of each product named by id (a page of a cached search), in
    that order; what :func:`product_dicts` gives, already encoded.

    What is the same for every caller -- a product with its variants, less their stock -- is cached per
    product under the listing version that every catalog write bumps (prices, names, variants added or
    removed, a category renamed), as JSON text cut where the stock goes; the stock of every variant is
    read fresh in one query, so a sale shows at once. Encoding 24 products with ~190 variants per
    request was a third of the products API's time (measured). Products no longer found (deactivated
    since the search) are left out.
    """

    def build(names: list[str]) -> dict[str, tuple[tuple[int, ...], tuple[str, ...]]]:
        wanted = [int(name.rsplit(":", 1)[1]) for name in names]
        fresh = Product.objects.active().select_related("category").filter(pk__in=wanted)
        return {f"product-json-pieces:{d['id']}": _product_json_pieces(d) for d in product_dicts(fresh)}

    cached = cached_many([f"product-json-pieces:{pk}" for pk in ids], build)
    stock = variant_stock_by_id(ids)
    items = []
    for pk in ids:
        entry = cached.get(f"product-json-pieces:{pk}")
        if entry is None:
            continue
        variant_ids, pieces = entry
        if all(variant_id in stock for variant_id in variant_ids):
            text = [pieces[0]]
            for variant_id, piece in zip(variant_ids, pieces[1:], strict=True):
                text += (_stock_text(stock[variant_id]), piece)
            items.append("".join(text))
        else:  # a variant deleted since the cache was filled (its write bumps the version: rare)
            product = json.loads(pieces[0] + "".join(_stock_text(0) + p for p in pieces[1:]))
            product["variants"] = [
                {**v, "stock": stock[int(v["id"])], "inStock": stock[int(v["id"])] > 0}
                for v in product["variants"]
                if int(v["id"]) in stock
            ]
            items.append(dumps_json(product))
    return items


def product_dicts_cached(ids: list[int]) -> list[dict[str, Any]]:
    """:func:`product_json_by_id` as dicts (the assistant's answer carries them): the same cache, the
    same fresh stock, no model instances."""
    return [loads_text(text) for text in product_json_by_id(ids)]


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
