"""The contract's ``Cart`` JSON (CONTRACT.md section 2), shared by the cart API and the assistant's Reply."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from carts.models import Cart
from carts.selectors import CartTotals, cart_totals
from commerce.fields import TextField
from commerce.money import money_str


def cart_to_dict(cart: Cart | None, *, totals: CartTotals | None = None) -> dict[str, Any]:
    """A cart as the API shows it. Load it with ``cart_with_lines()`` to keep the query count fixed.

    ``None`` (a shopper who has never had a cart) is an empty cart without an id.
    """
    totals = totals or cart_totals(cart)
    return {
        "id": str(cart.pk) if cart is not None else None,
        "items": [
            {
                "id": str(lt.line.pk),
                "productId": str(lt.line.variant.product_id),
                "variantId": str(lt.line.variant_id),
                "name": lt.line.variant.product.name,
                "size": lt.line.variant.size,
                "color": lt.line.variant.color,
                "unitPrice": money_str(lt.unit_price),
                "quantity": lt.line.quantity,
                "lineTotal": money_str(lt.line_total),
            }
            for lt in totals.lines
        ],
        "subtotal": money_str(totals.subtotal),
        "discountCode": totals.discount_code,
        "discount": money_str(totals.discount),
        "tax": money_str(totals.tax),
        "shipping": money_str(totals.shipping),
        "total": money_str(totals.total),
        "currency": settings.CURRENCY,
        "itemCount": totals.item_count,
    }


# Schema-only serializers: they document the shape cart_to_dict produces for drf-spectacular.
class CartItemOut(serializers.Serializer):
    id = serializers.CharField()
    productId = serializers.CharField()
    variantId = serializers.CharField()
    name = serializers.CharField()
    size = serializers.CharField()
    color = serializers.CharField()
    unitPrice = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=True)
    quantity = serializers.IntegerField(min_value=1, max_value=50)
    lineTotal = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)


class CartOut(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    items = CartItemOut(many=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    discountCode = serializers.CharField(allow_null=True)
    discount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    tax = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    shipping = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()
    itemCount = serializers.IntegerField(min_value=0)


class CartItemAddIn(serializers.Serializer):
    productId = TextField(max_length=32)
    variantId = TextField(max_length=32)
    quantity = serializers.IntegerField(min_value=1, max_value=settings.CART_MAX_LINE_QUANTITY, default=1)


class CartItemUpdateIn(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, max_value=settings.CART_MAX_LINE_QUANTITY)


class ApplyDiscountIn(serializers.Serializer):
    code = TextField(max_length=40)
