"""Recommended listing pages outside the request: the ranked page, its cards' cache key, and the warm
that renders a shopper's first page ahead of their next view.

The listing view (``catalog.views.product_list``) and memory's warm after a memory write
(``memory.services.recommended_orders_warm``) share this code, so a warmed page is exactly the one the
view would render and is found under the key the view reads. Nothing here knows of memory: the ranking
comes through catalog's ranking hook (``catalog.ranking``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, InvalidCacheBackendError, caches
from django.core.cache.utils import make_template_fragment_key
from django.core.paginator import Page, Paginator
from django.template.loader import render_to_string

from catalog import ranking
from catalog.models import Product
from catalog.ranking import RankingProfile
from catalog.selectors import LazyProducts, SearchResults, listing_version_pinned
from commerce.accounts.models import User
from commerce.accounts.types import MaybeUser

PAGE_SIZE = 24
# The cards' template and the name its {% cache %} tag gives them (catalog/product_list.html).
CARDS_TEMPLATE = "catalog/_listing_cards.html"
CARDS_FRAGMENT = "listing-cards"
# A shopper's recommended cards: as long as memory keeps their ranked order.
PERSONAL_FRAGMENT_SECONDS = 60


def ranked_page(
    user: MaybeUser,
    profile: RankingProfile | None,
    results: SearchResults,
    page_number: str | None,
    *,
    seen: bool = True,
) -> Page:
    """A page in "recommended for you" order, each card with its reason ("because you like denim")."""
    ranked = ranking.recommended_results(user=user, results=results, profile=profile, seen=seen)
    # RankedProducts and SearchResults page like a queryset (count, slicing); the stubs know only those.
    page = Paginator(ranked, PAGE_SIZE).get_page(page_number)  # type: ignore[arg-type]

    def with_reasons(products: list[Product]) -> None:
        reasons = ranking.recommendation_reasons(user=user, products=products, profile=profile)
        for product in products:
            product.recommendation_reason = reasons.get(product.pk, "")  # type: ignore[attr-defined]  # for the card only

    if isinstance(page.object_list, LazyProducts):  # read (and explained) only if the cards are rendered
        page.object_list = page.object_list.then(with_reasons)
    else:
        products = list(page.object_list)
        with_reasons(products)
        page.object_list = products
    return page


def personal_cards_key(*, results: SearchResults, page_number: int, user_id: int, token: str) -> str:
    """A shopper's recommended cards: the search at the catalog version, the page, the shopper and their
    memory version (however the address spells the search), so they can be rendered ahead of the view."""
    return f"{results.candidates_key()}:p{page_number}:shopper-{user_id}:{token}"


def recommended_listing_warm(*, user: User, search: Mapping[str, Any]) -> bool:
    """Ranks a shopper's recommended listing under their current memory version and renders its first
    page of cards into the cache, where the next view of it looks (the same code as the view: the
    ranking hook's cached order, the cards' reasons, the same template and key). For a task, after the
    shopper's memory changed. False, and nothing done, when the view would not cache either (nothing
    remembered, no memory version, a search too large for the cached ranking). Raises InvalidSearch."""
    results = SearchResults(**search)
    with listing_version_pinned():
        profile = ranking.shopper_profile(user=user)
        if profile is None or not ranking.remembers(profile=profile) or not profile.cache_token:
            return False
        if not results.rankable():
            return False
        page = ranked_page(user, profile, results, None, seen=False)
        cards_key = personal_cards_key(
            results=results, page_number=page.number, user_id=user.pk, token=profile.cache_token
        )
        key = make_template_fragment_key(CARDS_FRAGMENT, [cards_key])
        fragments = fragment_cache()
        if fragments.get(key) is None:
            fragments.set(key, render_to_string(CARDS_TEMPLATE, {"page": page}), PERSONAL_FRAGMENT_SECONDS)
    return True


def fragment_cache() -> BaseCache:
    """The cache the ``{% cache %}`` tag uses (Django's rule: ``template_fragments`` if configured)."""
    try:
        return caches["template_fragments"]
    except InvalidCacheBackendError:
        return caches[DEFAULT_CACHE_ALIAS]
