from __future__ import annotations

from typing import Any

from commerce.money import money_str
from orders.models import Order


def order_to_dict(order: Order) -> dict[str, Any]:
    """The contract's ``Order`` (CONTRACT.md section 2); the assistant returns the same shape."""
    return {
        "id": order.number,
        "status": order.status,
        "items": [
            {
                "id": str(line.pk),
                "productId": str(line.product_id),
                "variantId": str(line.variant_id) if line.variant_id else None,
                "name": line.name,
                "size": line.size,
                "color": line.color,
                "unitPrice": money_str(line.unit_price),
                "quantity": line.quantity,
            }
            for line in order.lines.all()
        ],
        "subtotal": money_str(order.subtotal),
        "discount": money_str(order.discount),
        "tax": money_str(order.tax),
        "shipping": money_str(order.shipping),
        "total": money_str(order.total),
        "currency": order.currency,
        "shippingAddress": order.shipping_address,
        "trackingNumber": order.tracking_number or None,
        "createdAt": order.created_at.isoformat(),
        "updatedAt": order.updated_at.isoformat(),
        "refunds": [
            {
                "id": str(r.pk),
                "amount": money_str(r.amount),
                "reason": r.reason,
                "createdAt": r.created_at.isoformat(),
            }
            for r in order.refunds.all()
        ],
    }
