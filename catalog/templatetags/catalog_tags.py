"""Template helpers for catalog pages (and any page that shows products or prices)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings

from commerce.money import money_str

register = template.Library()

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "$", "AUD": "$"}


@register.filter
def money(amount: Decimal | str | None) -> str:
    """``129.99`` -> ``$129.99`` in the site currency; empty for no amount."""
    if amount is None or amount == "":
        return ""
    symbol = SYMBOLS.get(settings.CURRENCY)
    value = money_str(Decimal(amount))
    return f"{symbol}{value}" if symbol else f"{value} {settings.CURRENCY}"


@register.simple_tag
def page_url(base_query: str, number: int) -> str:
    """The listing URL for page ``number`` keeping every other filter."""
    return f"?{base_query}&page={number}" if base_query else f"?page={number}"
