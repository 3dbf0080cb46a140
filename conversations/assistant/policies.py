"""The store's standard policy answers, which ``load_store_policies`` seeds and staff then edit in the admin.

The figures come from settings where a setting governs the rule (shipping fee, return window), so
the seeded answer and the checkout agree.
"""

from __future__ import annotations

from django.conf import settings

from commerce.money import money_str


def default_policies() -> list[dict[str, str]]:
    fee = money_str(settings.DEFAULT_SHIPPING_FEE)
    days = settings.RETURN_WINDOW_DAYS
    return [
        {
            "title": "Shipping times and cost",
            "topic": "shipping",
            "keywords": "shipping, ship, delivery, deliver, how long, arrive, arrival, postage, "
            "shipping cost, shipping fee, when will it arrive, dispatch",
            "answer": f"Every order ships for a flat ${fee} and arrives in 3-5 business days. "
            "You can follow it under Orders once it has shipped.",
        },
        {
            "title": "International shipping",
            "topic": "shipping",
            "keywords": "international, abroad, overseas, other countries, ship to canada, worldwide",
            "answer": "For now we ship within the United States only.",
        },
        {
            "title": "Returns and refunds",
            "topic": "returns",
            "keywords": "return, returns, refund, refunds, send back, exchange, money back, "
            "return policy, return window",
            "answer": f"You can return anything within {days} days after delivery for a refund to "
            "your original payment method. Start a refund from the order's page under Orders, or ask "
            "me to open a support ticket.",
        },
        {
            "title": "Size guide",
            "topic": "sizing",
            "keywords": "size, sizes, sizing, size guide, fit, fits, true to size, measurements, "
            "what size, size chart",
            "answer": "Shoes use US sizes and run true to size; if you are between sizes, take the "
            "larger one. Tops and hoodies come in XS-XXL with a regular fit. Each product page lists "
            "the sizes in stock.",
        },
        {
            "title": "Payment methods",
            "topic": "payment",
            "keywords": "payment, pay, card, credit card, paypal, payment methods, payment token, "
            "how can i pay, test card",
            "answer": "This is a demo store: checkout takes a test payment token (for example "
            "tok_visa), and no real card is charged.",
        },
        {
            "title": "Discount codes",
            "topic": "payment",
            "keywords": "discount, discount code, promo, promo code, coupon, voucher",
            "answer": "Enter a discount code on the cart page; one code applies per order, and the "
            "cart shows the saving before you check out.",
        },
        {
            "title": "Order changes and cancellation",
            "topic": "other",
            "keywords": "cancel, cancellation, change address, change my order, modify order",
            "answer": "Orders can be cancelled or have their shipping address changed until they "
            "ship, from the order's page under Orders.",
        },
    ]
