"""The "recommended for you" order, as a hook catalog defines and a higher app registers.

Catalog knows no shoppers: it asks the registered :class:`ShopperRanking` (memory registers one in its
``ready()``) for a shopper's profile, the order of a result set and each card's reason. With none
registered, or for a guest, results keep their own order and "recommended" is not offered -- the one
rule both the listing page and the products API follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeGuard

from django.db.models import QuerySet

from catalog.models import Product
from catalog.selectors import RankCandidate, RankedProducts, SearchResults
from commerce.accounts.models import User
from commerce.accounts.types import MaybeUser


class RankingProfile(Protocol):
    """What catalog reads of a shopper's profile; the rest belongs to the registered ranking."""

    @property
    def is_empty(self) -> bool: ...

    @property
    def cache_token(self) -> str:
        """Changes whenever anything the ranking reads of the shopper changes; empty: do not cache
        what depends on this profile."""
        ...


class ShopperRanking(Protocol):
    def profile(self, *, user: User) -> RankingProfile:
        """The shopper's ranking profile, read once per request."""

    def rank(self, *, user: User, products: QuerySet[Product], profile: RankingProfile) -> QuerySet[Product]:
        """``products`` in the shopper's order (lazy; ties keep the queryset's order)."""

    def order(
        self,
        *,
        user: User,
        candidates: Callable[[], Sequence[RankCandidate]],
        candidates_key: str,
        profile: RankingProfile,
        search: Mapping[str, Any] | None = None,
    ) -> list[int]:
        """The candidates' ids in the shopper's order (ties keep the candidates' order).
        ``candidates_key`` names the candidates (a search at a catalog version), so the ranking may
        cache its order; ``candidates()`` reads them when it does not. ``search``: the search's
        arguments (``SearchResults(**search)`` gives the same candidates), so the ranking may remember
        what the shopper looks at and rank it again ahead of their next visit."""

    def reasons(
        self, *, user: MaybeUser, products: Iterable[Product], profile: RankingProfile
    ) -> dict[int, str]:
        """Product id -> a short reason for products already fetched."""


_registered: ShopperRanking | None = None


def ranking_register(ranking: ShopperRanking | None) -> None:
    global _registered
    _registered = ranking


def _signed_in(user: MaybeUser) -> TypeGuard[User]:
    return user is not None and user.is_authenticated


def shopper_profile(*, user: MaybeUser) -> RankingProfile | None:
    """The signed-in shopper's profile (None for a guest, or with no ranking registered)."""
    if _registered is None or not _signed_in(user):
        return None
    return _registered.profile(user=user)


def remembers(*, profile: RankingProfile | None) -> bool:
    """Whether "recommended for you" is worth offering: something is remembered about the shopper."""
    return profile is not None and not profile.is_empty


def recommended(
    *, user: MaybeUser, products: QuerySet[Product], profile: RankingProfile | None = None
) -> QuerySet[Product]:
    """``products`` in the shopper's recommended order; unchanged for a guest or with no ranking."""
    if _registered is None or not _signed_in(user):
        return products
    profile = profile if profile is not None else _registered.profile(user=user)
    return _registered.rank(user=user, products=products, profile=profile)


def recommended_results(
    *,
    user: MaybeUser,
    results: SearchResults,
    profile: RankingProfile | None = None,
    seen: bool = True,
) -> SearchResults | RankedProducts | QuerySet[Product]:
    """A search's results in the shopper's recommended order, paged like the search (``count()``,
    slices). The matches and their rows come from the search's cache, so only the shopper's own scoring
    runs per request; a search with more matches than the cache keeps is ordered by the database.
    ``seen``: the shopper is looking at it (the ranking may remember the search); False when the order
    is computed ahead of a view."""
    if _registered is None or not _signed_in(user):
        return results
    profile = profile if profile is not None else _registered.profile(user=user)
    if profile.is_empty:
        return results
    if not results.rankable():
        return _registered.rank(user=user, products=results.queryset(), profile=profile)
    order = _registered.order(
        user=user,
        candidates=results.rank_candidates,
        candidates_key=results.candidates_key(),
        profile=profile,
        search=results.terms() if seen else None,
    )
    return RankedProducts(order)


def recommendation_reasons(
    *, user: MaybeUser, products: Iterable[Product], profile: RankingProfile | None
) -> dict[int, str]:
    if _registered is None or profile is None:
        return {}
    return _registered.reasons(user=user, products=products, profile=profile)
