"""``{% load memory_tags %}{% for_you_row user %}``: the home page's "For you" row.

Renders nothing for a guest or a shopper with nothing remembered (the home page then looks as it
always did); otherwise up to ``limit`` in-stock products ranked for them, each with its reason.
"""

from __future__ import annotations

from typing import Any

from django import template

from commerce.accounts.types import MaybeUser
from memory.selectors import recommend_for_user, signed_in

register = template.Library()


@register.inclusion_tag("memory/for_you_row.html")
def for_you_row(user: MaybeUser, limit: int = 4) -> dict[str, Any]:
    if not signed_in(user):
        return {"items": []}
    items = recommend_for_user(user=user, limit=limit)
    # No reason on any item means nothing remembered matched: show no row rather than a random one.
    if not any(reason for _, reason in items):
        items = []
    return {"items": items}
