"""Reads of memory: preferences, affinities, history, the catalog vocabulary preferences are checked
against, the size/colour fill-in for the assistant, and recommendations (ranking is in ranking.py).

Every function takes ``user`` and answers "nothing remembered" for ``None`` or an anonymous user:
guests have no long-term memory.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeGuard

from django.core.cache import cache
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from catalog.models import Category, Product, Variant
from catalog.selectors import listing_cache_version, listing_cached, product_queryset
from commerce.accounts.models import User
from commerce.accounts.types import MaybeUser
from memory import conf
from memory.models import Affinity, InteractionSummary, Preference, PreferenceKey, decay
from memory.ranking import ORDER_CACHE_SECONDS, CategoryInfo, Profile, variant_facts
from memory.sizes import SIZE_KINDS, kind_for_names, kind_for_sizes
from memory.types import AffinityView, Preferences

SNAPSHOT_HISTORY_LIMIT = 20
LIST_KEYS = (
    PreferenceKey.BRANDS,
    PreferenceKey.DISLIKED_BRANDS,
    PreferenceKey.CATEGORIES,
    PreferenceKey.STYLES,
    PreferenceKey.COLORS,
    PreferenceKey.DISLIKED_COLORS,
)


def signed_in(user: MaybeUser) -> TypeGuard[User]:
    return user is not None and user.is_authenticated and user.pk is not None


# --- Preferences ------------------------------------------------------------------------------
_FIELD_OF_KEY = {
    PreferenceKey.BRANDS: "brands",
    PreferenceKey.DISLIKED_BRANDS: "disliked_brands",
    PreferenceKey.CATEGORIES: "categories",
    PreferenceKey.STYLES: "styles",
    PreferenceKey.COLORS: "colors",
    PreferenceKey.DISLIKED_COLORS: "disliked_colors",
}


def preferences_from_rows(rows: list[Preference]) -> Preferences:
    values: dict[str, Any] = {"sizes": dict.fromkeys(SIZE_KINDS)}
    for row in rows:
        if row.key.startswith("sizes."):
            values["sizes"][row.key.split(".", 1)[1]] = str(row.value)
        elif row.key in _FIELD_OF_KEY:
            values[_FIELD_OF_KEY[PreferenceKey(row.key)]] = [str(v) for v in row.value]
        elif row.key == PreferenceKey.PRICE_MIN:
            values["price_min"] = Decimal(str(row.value))
        elif row.key == PreferenceKey.PRICE_MAX:
            values["price_max"] = Decimal(str(row.value))
    values["updated_at"] = max((r.updated_at for r in rows), default=None)
    return Preferences(**values)


def preferences_get(*, user: MaybeUser) -> Preferences:
    """The shopper's stated preferences (one query); empty for a guest."""
    if not signed_in(user):
        return Preferences()
    return preferences_from_rows(list(Preference.objects.filter(user=user)))


# --- Affinities and history -------------------------------------------------------------------
def affinities_list(
    *, user: MaybeUser, now: datetime | None = None, limit: int | None = None
) -> list[AffinityView]:
    """The shopper's inferred interests, strongest first, without those decayed to nothing (one query)."""
    if not signed_in(user):
        return []
    now = now or timezone.now()
    views = []
    # Rows, not model instances: a long history is hundreds of them, read on every ranked page.
    rows = (
        Affinity.objects.filter(user=user)
        .order_by()
        .values_list("id", "kind", "key", "label", "score", "last_event_at")
    )
    for pk, kind, key, label, score, last_event_at in rows:
        weight = decay(score, last_event_at, now)
        if weight >= conf.AFFINITY_FLOOR:
            views.append(AffinityView(pk, kind, key, label, weight, last_event_at))
    views.sort(key=lambda v: (-v.weight, v.kind, v.label))
    return views[:limit] if limit is not None else views


def history_queryset(*, user: MaybeUser) -> QuerySet[InteractionSummary]:
    """Conversation summaries, newest first; none for a guest."""
    if not signed_in(user):
        return InteractionSummary.objects.none()
    return InteractionSummary.objects.filter(user=user).order_by("-created_at", "-id")


def summary_to_dict(summary: InteractionSummary) -> dict[str, Any]:
    return {
        "id": str(summary.pk),
        "conversation": summary.conversation_label,
        "summary": summary.text,
        "channel": summary.channel,
        "createdAt": summary.created_at.isoformat().replace("+00:00", "Z"),
    }


def memory_snapshot(*, user: MaybeUser, history_limit: int = SNAPSHOT_HISTORY_LIMIT) -> dict[str, Any]:
    """``GET /memory``: ``{preferences, history, affinities}`` (three queries)."""
    return {
        "preferences": preferences_get(user=user).to_dict(),
        "history": [summary_to_dict(s) for s in history_queryset(user=user)[:history_limit]],
        "affinities": [a.to_dict() for a in affinities_list(user=user)],
    }


def memory_export(*, user: User) -> dict[str, Any]:
    """ "Download my data": everything remembered about the shopper, unabridged."""
    now = timezone.now()
    return {
        "exportedAt": now.isoformat().replace("+00:00", "Z"),
        "user": {"id": str(user.pk), "email": user.email, "name": getattr(user, "name", "")},
        "preferences": preferences_get(user=user).to_dict(),
        "history": [summary_to_dict(s) for s in history_queryset(user=user)],
        "affinities": [a.to_dict() for a in affinities_list(user=user, now=now)],
        "retention": {
            "preferences": "until you change or forget them",
            "affinities": f"fade by half every {conf.half_life_days():g} days, then deleted",
            "history": f"{conf.summary_retention_days()} days",
        },
    }


# --- The catalog's vocabulary -----------------------------------------------------------------
def normalise_term(text: str) -> str:
    """Lower case, single spaces, simple plurals dropped: "Hoodies" and "hoodie" compare equal."""
    words = re.findall(r"[a-z0-9&'+-]+", str(text).lower())
    out = []
    for word in words:
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return " ".join(out)


@dataclass(frozen=True)
class CatalogVocabulary:
    """What a preference may name: normalised term -> the catalog's spelling, per field."""

    brands: dict[str, str]
    categories: dict[str, str]
    colors: dict[str, str]
    styles: dict[str, str]

    def choices(self, field_name: str) -> list[str]:
        return sorted(set(getattr(self, field_name).values()), key=str.lower)


def _category_aliases(category: Category) -> set[str]:
    names = {category.name, category.slug.replace("-", " ")}
    # "Hoodies & Sweatshirts" is also asked for as "hoodies" or "sweatshirts".
    names.update(p for p in re.split(r"\s*(?:&|\band\b|,|/)\s*", category.name) if p)
    return {normalise_term(n) for n in names if normalise_term(n)}


def _build_vocabulary() -> CatalogVocabulary:
    active = Product.objects.filter(is_active=True)
    brands = {normalise_term(b): b for b in active.order_by().values_list("brand", flat=True).distinct() if b}
    categories: dict[str, str] = {}
    for category in Category.objects.order_by("-parent_id", "position", "name"):
        for alias in _category_aliases(category):
            categories.setdefault(alias, category.name)
    colors: dict[str, str] = {}
    raw_colors = (
        Variant.objects.filter(product__is_active=True)
        .exclude(color="")
        .annotate(lc=Lower("color"))
        .order_by()
        .values_list("lc", flat=True)
        .distinct()
    )
    for colour in raw_colors:
        colors[normalise_term(colour)] = colour
    for colour in list(colors.values()):
        # "neon" and "pink" name the neon yellows and the dusty pinks: a word of a colour is a colour.
        for word in colour.split():
            colors.setdefault(normalise_term(word), word)
    if "grey" in colors:
        colors.setdefault("gray", "grey")
    styles: dict[str, str] = {}
    for tags in active.order_by().values_list("tags", flat=True).iterator(chunk_size=5000):
        for tag in tags or []:
            text = str(tag).strip().lower()
            if text and text != "featured":
                styles.setdefault(normalise_term(text), text)
    return CatalogVocabulary(brands=brands, categories=categories, colors=colors, styles=styles)


def catalog_vocabulary() -> CatalogVocabulary:
    """Brands, categories, colours and styles (product tags) of the active catalog, cached under the
    catalog's listing version (``listing_cached``): a brand or tag an import or the admin adds can be
    preferred at once."""
    return listing_cached("memory-vocabulary", _build_vocabulary)


# --- Fill-in for the assistant ----------------------------------------------------------------
def product_size_kind(product: Product) -> str | None:
    """``tops``, ``bottoms``, ``shoes`` or None (socks, caps, bags) for a product.

    Reads the category path (select_related ``category__parent``), tags and prefetched variants.
    """
    return (
        kind_for_names(product.category.path_names)
        or kind_for_names(product.tags or [])
        or kind_for_sizes([v.size for v in product.variants.all() if v.size])
    )


def size_for_product(*, user: MaybeUser, product: Product) -> tuple[str | None, str]:
    """The shopper's usual size for this kind of product, for the assistant to fill in.

    Returns ``(size, reason)``: ``("M", "I picked size M, as you prefer for tops.")`` when the
    product comes in that size (the reason says so if it is sold out right now), ``(None, reason)``
    when it does not come in it, ``(None, "")`` when nothing is remembered for this kind (or the
    shopper is a guest). A size for shoes is never used for a hoodie.
    """
    if not signed_in(user):
        return None, ""
    kind = product_size_kind(product)
    if kind is None:
        return None, ""
    wanted = preferences_get(user=user).sizes.get(kind)
    if not wanted:
        return None, ""
    matching = [v for v in product.variants.all() if v.size.strip().upper() == wanted.upper()]
    if not matching:
        return None, f"{product.name} does not come in your usual {kind} size {wanted}."
    if not any(v.stock > 0 for v in matching):
        return matching[0].size, f"I picked size {wanted}, as you prefer, but it is sold out right now."
    return matching[0].size, f"I picked size {wanted}, as you prefer."


def color_for_product(
    *, user: MaybeUser, product: Product, size: str | None = None
) -> tuple[str | None, str]:
    """The first liked colour this product has in stock (in ``size`` if given), for the fill-in.

    Returns ``(colour, reason)`` or ``(None, "")``. Disliked colours are never picked.
    """
    if not signed_in(user):
        return None, ""
    prefs = preferences_get(user=user)
    if not prefs.colors:
        return None, ""
    disliked = [d.lower() for d in prefs.disliked_colors]
    variants = [
        v
        for v in product.variants.all()
        if v.stock > 0
        and (size is None or v.size.upper() == size.upper())
        and not any(d in v.color.lower() for d in disliked)
    ]
    for liked in prefs.colors:
        for v in variants:
            if liked.lower() in v.color.lower():
                return v.color, f"I picked {v.color}, a colour you like."
    return None, ""


# --- Recommendations --------------------------------------------------------------------------
# A shopper's ranking profile is cached under their memory version, which every write of their
# preferences or affinities bumps (memory.services.profile_changed); the timeout bounds how long the
# affinities' decay (half-lives of days) is read as of the moment the profile was built.
PROFILE_CACHE_SECONDS = 60


def profile_version(*, user_id: int) -> int:
    """The shopper's memory version (a new one after each write of what their ranking reads)."""
    key = PROFILE_VERSION_KEY.format(user_id=user_id)
    version = cache.get(key)
    if version is None:
        # From the clock, not 1: an evicted key's successor is never a version whose values may linger.
        cache.add(key, time.time_ns() // 1000, PROFILE_VERSION_SECONDS)
        version = cache.get(key) or time.time_ns() // 1000
    return int(version)


PROFILE_VERSION_KEY = "memory:profile-version:{user_id}"
PROFILE_VERSION_SECONDS = 7 * 24 * 3600


def profile_for(*, user: MaybeUser, now: datetime | None = None) -> Profile:
    """The ranking profile of a shopper: preferences, decayed affinities, the category tree (<= 3 queries;
    cached per memory version for a signed-in shopper, so a ranked page usually costs none)."""
    if now is not None or not signed_in(user):
        return _profile_build(user=user, now=now)
    version = profile_version(user_id=user.pk)
    key = f"memory:profile:{user.pk}:v{version}"
    profile: Profile | None = cache.get(key)
    if profile is None:
        profile = _profile_build(user=user, now=None)
        profile.cache_token = f"m{version}"
        cache.set(key, profile, PROFILE_CACHE_SECONDS)
    return profile


# The listings a shopper last saw in "recommended for you" order, newest first: what a new memory
# version ranks again in the background (memory.services.recommended_orders_warm). Per shopper, at
# most RECENT_LISTINGS_KEPT searches seen within RECENT_LISTINGS_SECONDS.
RECENT_LISTINGS_KEY = "memory:recent-listings:{user_id}"
RECENT_LISTINGS_KEPT = 5
RECENT_LISTINGS_SECONDS = 3600


@dataclass(frozen=True)
class RecentListing:
    """One search seen in recommended order: ``SearchResults(**search)`` is that search again."""

    key: str
    search: dict[str, Any]
    seen_at: float


def listing_identity(search: Mapping[str, Any]) -> str:
    """The same search, however its arguments were spelt (empty ones left out, values as text)."""
    return repr(sorted((k, str(v)) for k, v in search.items() if v not in (None, "", False)))


def recommended_listings_recent(
    *, user_id: int, recent: list[RecentListing] | None = None, now: float | None = None
) -> list[RecentListing]:
    """The shopper's recent recommended listings, newest first, none older than the window (one cache
    read, none when ``recent`` is the value already read)."""
    if recent is None:
        recent = cache.get(RECENT_LISTINGS_KEY.format(user_id=user_id))
    if not isinstance(recent, list):
        return []
    oldest = (now if now is not None else time.time()) - RECENT_LISTINGS_SECONDS
    return [r for r in recent if isinstance(r, RecentListing) and r.seen_at >= oldest][:RECENT_LISTINGS_KEPT]


def _profile_build(*, user: MaybeUser, now: datetime | None) -> Profile:
    prefs = preferences_get(user=user)
    affinities = affinities_list(user=user, now=now)
    categories: list[CategoryInfo] = []
    if prefs.categories or any(prefs.sizes.values()):
        categories = [
            CategoryInfo(id=pk, name=name, parent_id=parent_id)
            for pk, name, parent_id in Category.objects.order_by().values_list("id", "name", "parent_id")
        ]
    return Profile.build(prefs, affinities, categories)


def _default_recommendation_base() -> QuerySet[Product]:
    return product_queryset().in_stock().order_by("-created_at", "-id")


def recommend_for_user(
    *, user: MaybeUser, limit: int = 12, base_queryset: QuerySet[Product] | None = None
) -> list[tuple[Product, str]]:
    """Up to ``limit`` products for this shopper, best first, each with a short reason.

    ``base_queryset`` (default: active products with stock, newest first) is what may be
    recommended; its own order breaks ties. A guest or a shopper with nothing remembered gets the
    base order unchanged, with empty reasons. Disliked brands come last. A bounded number of
    queries whatever the catalog or history size: the profile (<= 3), the ranked page, its variants.
    """
    base = base_queryset if base_queryset is not None else _default_recommendation_base()
    profile = profile_for(user=user)
    if profile.is_empty:
        return [(product, "") for product in base[:limit]]
    if base_queryset is not None or not profile.cache_token or user is None:
        products = profile.top(base, limit)
        return [(product, _first(profile.explain(product)[1])) for product in products]
    # The home page's "For you" row: the picks are kept per memory and catalog version, like the
    # recommended listing's order (docs/memory.md), and read back as fresh product rows.
    key = f"memory:for-you:{user.pk}:{profile.cache_token}:v{listing_cache_version()}:{limit}"
    ids: list[int] | None = cache.get(key)
    if ids is None:
        products = profile.top(base, limit)
        cache.set(key, [product.pk for product in products], ORDER_CACHE_SECONDS)
    else:
        found = {p.pk: p for p in base.filter(pk__in=ids)}
        products = [found[pk] for pk in ids if pk in found]
    return [(product, _first(profile.explain(product)[1])) for product in products]


def rank_products_for_user(
    *, user: MaybeUser, products: QuerySet[Product], profile: Profile | None = None
) -> QuerySet[Product]:
    """``products`` in "recommended for you" order (a lazy queryset: paginate it as usual).

    Ties keep the queryset's own order; a guest or a shopper with nothing remembered gets
    ``products`` back unchanged. Use :func:`recommendation_reasons` for the cards' reasons.
    ``profile``: the shopper's :func:`profile_for`, when the caller already has it (one request
    that ranks, explains and offers the sort reads it once).
    """
    return (profile if profile is not None else profile_for(user=user)).rank(products)


def recommendation_reasons(
    *, user: MaybeUser, products: Iterable[Product], profile: Profile | None = None
) -> dict[int, str]:
    """Product id -> a short reason ("because you like denim") for products already fetched
    (with prefetched variants); products with no reason are left out. No query per product."""
    profile = profile if profile is not None else profile_for(user=user)
    if profile.is_empty:
        return {}
    products = list(products)
    unfetched = {p.pk for p in products if "variants" not in getattr(p, "_prefetched_objects_cache", {})}
    facts = variant_facts(unfetched) if unfetched else {}
    reasons = {}
    for product in products:
        rows = facts.get(product.pk, []) if product.pk in unfetched else None
        reason = _first(profile.explain(product, rows)[1])
        if reason:
            reasons[product.pk] = reason
    return reasons


def _first(reasons: list[str]) -> str:
    return reasons[0] if reasons else ""
