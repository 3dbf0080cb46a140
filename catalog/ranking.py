"""The "recommended for you" order, as a hook catalog defines and a higher app registers.

Catalog knows no shoppers: it asks the registered :class:`ShopperRanking` (memory registers one in its
``ready()``) for a shopper's profile, the order of a result set and each card's reason. With none
registered, or for a guest, results keep their own order and "recommended" is not offered -- the one
rule both the listing page and the products API follow.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from django.db.models import QuerySet

from catalog.models import Product


class ShopperRanking(Protocol):
    def profile(self, *, user: Any) -> Any:
        """The shopper's ranking profile, read once per request; it has ``is_empty``."""

    def rank(self, *, user: Any, products: QuerySet[Product], profile: Any) -> QuerySet[Product]:
        """``products`` in the shopper's order (lazy; ties keep the queryset's order)."""

    def reasons(self, *, user: Any, products: Iterable[Product], profile: Any) -> dict[int, str]:
        """Product id -> a short reason for products already fetched."""


_registered: ShopperRanking | None = None


def ranking_register(ranking: ShopperRanking | None) -> None:
    global _registered
    _registered = ranking


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def shopper_profile(*, user: Any) -> Any | None:
    """The signed-in shopper's profile (None for a guest, or with no ranking registered)."""
    if _registered is None or not _signed_in(user):
        return None
    return _registered.profile(user=user)


def remembers(*, profile: Any | None) -> bool:
    """Whether "recommended for you" is worth offering: something is remembered about the shopper."""
    return profile is not None and not profile.is_empty


def recommended(*, user: Any, products: QuerySet[Product], profile: Any | None = None) -> QuerySet[Product]:
    """``products`` in the shopper's recommended order; unchanged for a guest or with no ranking."""
    if _registered is None or not _signed_in(user):
        return products
    profile = profile if profile is not None else _registered.profile(user=user)
    return _registered.rank(user=user, products=products, profile=profile)


def recommendation_reasons(*, user: Any, products: Iterable[Product], profile: Any | None) -> dict[int, str]:
    if _registered is None or profile is None:
        return {}
    return _registered.reasons(user=user, products=products, profile=profile)
