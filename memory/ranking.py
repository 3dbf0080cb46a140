"""Personal ranking: one score per product from stated preferences and decayed affinities.

The score is computed twice from the same :class:`Profile` and the same weights: as one SQL
expression (so a 20,000-product listing is ordered by the database, in one query, and pages with
LIMIT/OFFSET) and in Python for the few products shown (to say *why*: "because you like denim").
``memory/tests/test_ranking.py`` checks the two agree.

Terms (weights below): liked brand, liked category (its sub-categories too), a liked style among
the tags, a liked colour on offer, the shopper's size in stock (for products that take that kind of
size; not in stock counts against), price inside/outside the stated range, affinities for the
product, its category and its brand (saturating, so one binge does not drown the stated
preferences), and two sinks: a disliked brand, or only disliked colours on offer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, reduce
from typing import Any, NamedTuple, Protocol

from django.core.cache import cache
from django.db.models import (
    Case,
    Exists,
    FloatField,
    IntegerField,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from catalog.models import Product, Variant
from catalog.ranking import RankingProfile
from catalog.selectors import RankCandidate
from commerce.accounts.models import User
from commerce.accounts.types import MaybeUser
from memory.sizes import kind_for_names
from memory.types import AffinityView, Preferences

W_BRAND = 3.0
W_CATEGORY = 3.0
W_STYLE = 2.0
W_COLOR = 1.5
W_SIZE_IN_STOCK = 2.0
W_SIZE_MISSING = -1.0
W_PRICE_IN = 1.0
W_PRICE_OUT = -1.0
W_DISLIKED_BRAND = -100.0
W_DISLIKED_COLORS_ONLY = -50.0
# Affinity terms saturate: cap * s / (s + half), so a strong interest approaches the cap.
AFFINITY_CAPS = {"brand": (2.0, 5.0), "category": (2.0, 5.0), "product": (1.5, 3.0)}
# How many products get the full score (with the variant terms) when a large queryset is ranked.
POOL = 300
# How long a shopper's recommended order of one search is kept (a memory write or a catalog write
# makes a new key at once; this bounds only the affinities' decay, as for the cached profile).
ORDER_CACHE_SECONDS = 60
# Only the strongest affinities enter the SQL expression, which keeps it small however long the history.
MAX_AFFINITIES = {"brand": 20, "category": 30, "product": 50}


def affinity_term(kind: str, score: float) -> float:
    cap, half = AFFINITY_CAPS[kind]
    return cap * score / (score + half)


@dataclass
class CategoryInfo:
    id: int
    name: str
    parent_id: int | None


@dataclass
class Profile:
    """Everything the ranking needs about one shopper, loaded once (three small queries)."""

    prefs: Preferences
    brand_affinity: dict[str, tuple[str, float]] = field(default_factory=dict)
    category_affinity: dict[int, tuple[str, float]] = field(default_factory=dict)
    product_affinity: dict[int, tuple[str, float]] = field(default_factory=dict)
    # category id (sub-categories included) -> the liked category's name
    liked_categories: dict[int, str] = field(default_factory=dict)
    # size kind -> (preferred size, category ids of that kind)
    sizes: dict[str, tuple[str, frozenset[int]]] = field(default_factory=dict)
    # The shopper's memory version when this was built ("" when built outside the cache, e.g. for a
    # given moment): what caches of orders and cards are keyed by.
    cache_token: str = ""

    @property
    def is_empty(self) -> bool:
        return self.prefs.is_empty and not (
            self.brand_affinity or self.category_affinity or self.product_affinity
        )

    @classmethod
    def build(
        cls, prefs: Preferences, affinities: Iterable[AffinityView], categories: Iterable[CategoryInfo]
    ) -> Profile:
        profile = cls(prefs=prefs)
        counts = dict.fromkeys(MAX_AFFINITIES, 0)
        for a in sorted(affinities, key=lambda a: -a.weight):
            if counts[a.kind] >= MAX_AFFINITIES[a.kind]:
                continue
            counts[a.kind] += 1
            term = affinity_term(a.kind, a.weight)
            if a.kind == "brand":
                profile.brand_affinity[a.key.lower()] = (a.label, term)
            elif a.key.isdigit():
                target = profile.category_affinity if a.kind == "category" else profile.product_affinity
                target[int(a.key)] = (a.label, term)
        cats = {c.id: c for c in categories}
        if prefs.categories or any(prefs.sizes.values()):
            liked = {name.lower(): name for name in prefs.categories}
            kinds: dict[str, set[int]] = {}
            for cat in cats.values():
                path = _path(cat, cats)
                for ancestor in reversed(path):
                    if ancestor.name.lower() in liked:
                        profile.liked_categories[cat.id] = liked[ancestor.name.lower()]
                        break
                kind = kind_for_names(c.name for c in path)
                if kind:
                    kinds.setdefault(kind, set()).add(cat.id)
            for kind, size in prefs.sizes.items():
                if size and kinds.get(kind):
                    profile.sizes[kind] = (size, frozenset(kinds[kind]))
        return profile

    # -- the SQL side --------------------------------------------------------------------------
    def _row_parts(self) -> list[Any]:
        """Terms that read only the product row (brand, category, tags, id): cheap on any number of rows."""
        parts: list[Any] = []
        p = self.prefs
        if p.brands:
            parts.append(_case(When(_any_iexact("brand", p.brands), then=Value(W_BRAND))))
        if p.disliked_brands:
            parts.append(_case(When(_any_iexact("brand", p.disliked_brands), then=Value(W_DISLIKED_BRAND))))
        if self.liked_categories:
            parts.append(_case(When(category_id__in=list(self.liked_categories), then=Value(W_CATEGORY))))
        if p.styles:
            tags = reduce(lambda a, b: a | b, (Q(tags__icontains=f'"{s}"') for s in p.styles))
            parts.append(_case(When(tags, then=Value(W_STYLE))))
        if self.brand_affinity:
            parts.append(
                _case(
                    *(When(brand__iexact=label, then=Value(t)) for label, t in self.brand_affinity.values())
                )
            )
        if self.category_affinity:
            parts.append(
                _case(
                    *(When(category_id=cid, then=Value(t)) for cid, (_, t) in self.category_affinity.items())
                )
            )
        if self.product_affinity:
            parts.append(
                _case(*(When(pk=pid, then=Value(t)) for pid, (_, t) in self.product_affinity.items()))
            )
        return parts

    def _variant_parts(self) -> list[Any]:
        """Terms that look at the variants (colour, size in stock, price): a subquery each."""
        parts: list[Any] = []
        p = self.prefs
        if p.colors:
            colour = Variant.objects.filter(_any_icontains("color", p.colors), product=OuterRef("pk"))
            parts.append(_case(When(Exists(colour), then=Value(W_COLOR))))
        if p.disliked_colors:
            other = Variant.objects.filter(product=OuterRef("pk")).exclude(
                _any_icontains("color", p.disliked_colors)
            )
            parts.append(_case(When(~Exists(other), then=Value(W_DISLIKED_COLORS_ONLY))))
        for size, category_ids in self.sizes.values():
            in_size = Variant.objects.filter(product=OuterRef("pk"), size__iexact=size, stock__gt=0)
            parts.append(
                _case(
                    When(
                        category_id__in=list(category_ids),
                        then=Case(
                            When(Exists(in_size), then=Value(W_SIZE_IN_STOCK)),
                            default=Value(W_SIZE_MISSING),
                            output_field=FloatField(),
                        ),
                    )
                )
            )
        if p.price_min is not None or p.price_max is not None:
            # "Has an option within your range": one EXISTS, not the lowest-price subquery twice.
            in_range = Variant.objects.filter(product=OuterRef("pk"))
            if p.price_min is not None:
                in_range = in_range.filter(price__gte=p.price_min)
            if p.price_max is not None:
                in_range = in_range.filter(price__lte=p.price_max)
            parts.append(
                Case(
                    When(Exists(in_range), then=Value(W_PRICE_IN)),
                    default=Value(W_PRICE_OUT),
                    output_field=FloatField(),
                )
            )
        return parts

    def variant_upper_bound(self) -> float:
        """The most the variant terms can add to a product's row score."""
        p = self.prefs
        return (
            (W_COLOR if p.colors else 0.0)
            # A product takes one kind of size, so at most one size term applies.
            + (W_SIZE_IN_STOCK if self.sizes else 0.0)
            + (W_PRICE_IN if p.price_min is not None or p.price_max is not None else 0.0)
        )

    def score_expression(self) -> Any:
        """The whole score as one float expression over a Product queryset."""
        return _sum(self._row_parts() + self._variant_parts())

    def rank_exact(self, products: QuerySet[Product]) -> QuerySet[Product]:
        """``products`` ordered by the full score (variant subqueries on every row): for small sets."""
        if self.is_empty:
            return products
        # Ordered by the expression, not an annotation: selecting the score too would make
        # PostgreSQL evaluate every variant subquery a second time for the rows it returns.
        return products.order_by(OrderBy(self.score_expression(), descending=True), *_order_of(products))

    def ranked_pool(self, products: QuerySet[Product], *, pool: int = POOL) -> list[int]:
        """Ids of the ``pool`` products with the best row score, in full-score order (two queries).

        The row terms (stated brand, category, style; inferred brand, category, product) need no
        subquery, so they rank a whole catalog cheaply; the variant terms (colour, size in stock,
        price), which cost a subquery per product, are only computed for the pool.
        """
        order = _order_of(products)
        head = list(
            products.annotate(memory_row_score=_sum(self._row_parts()))
            .order_by("-memory_row_score", *order)
            .values_list("pk", flat=True)[:pool]
        )
        if not self._variant_parts():
            return head
        return list(self.rank_exact(products.filter(pk__in=head)).values_list("pk", flat=True))

    def rank(self, products: QuerySet[Product], *, pool: int = POOL) -> QuerySet[Product]:
        """``products`` in "recommended" order: a lazy queryset (paginate it), unchanged when empty.

        The first ``pool`` places go to the products that best match on brand, category, style
        and history, ordered by the full score (colour, size in stock and price too); the rest
        follow by that first score; ties keep the queryset's own order. When the queryset has no
        more than ``pool`` products (any filtered listing or search page) the order is exactly
        the full score.
        """
        if self.is_empty:
            return products
        order = _order_of(products)
        row_parts = self._row_parts()
        if not row_parts:
            # Only colour, size or price remembered: no cheap first score to pick a pool with.
            return self.rank_exact(products)
        row = OrderBy(_sum(row_parts), descending=True)
        if not self._variant_parts():
            return products.order_by(row, *order)
        ids = self.ranked_pool(products, pool=pool)
        if not ids:
            return products
        position = Case(
            *(When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)),
            default=Value(len(ids)),
            output_field=IntegerField(),
        )
        return products.order_by(position, row, *order)

    def top(self, products: QuerySet[Product], limit: int, *, pool: int = POOL) -> list[Product]:
        """The first ``limit`` of :meth:`rank`, fetched by id (three queries, whatever the catalog)."""
        if self.is_empty:
            return list(products[:limit])
        if not self._row_parts():
            return list(self.rank_exact(products)[:limit])
        ids = self.ranked_pool(products, pool=max(pool, limit))[:limit]
        found = {p.pk: p for p in products.filter(pk__in=ids)}
        return [found[pk] for pk in ids if pk in found]

    # -- cached candidates (a search's matches with their rows) --------------------------------
    def row_score(self, candidate: RankCandidate) -> float:
        """:meth:`_row_parts`' sum for one candidate, in Python (the same terms and weights)."""
        score = self._row_score_without_product(candidate.brand, candidate.category_id, candidate.tags)
        if candidate.id in self.product_affinity:
            score += self.product_affinity[candidate.id][1]
        return score

    def _row_score_without_product(self, brand: str, category_id: int, tags: tuple[str, ...]) -> float:
        brands, disliked_brands, styles = self._lowered_prefs
        score = 0.0
        if brand in brands:
            score += W_BRAND
        if brand in disliked_brands:
            score += W_DISLIKED_BRAND
        if category_id in self.liked_categories:
            score += W_CATEGORY
        if not styles.isdisjoint(tags):
            score += W_STYLE
        if brand in self.brand_affinity:
            score += self.brand_affinity[brand][1]
        if category_id in self.category_affinity:
            score += self.category_affinity[category_id][1]
        return score

    @cached_property
    def _lowered_prefs(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        def lowered(values: Iterable[str]) -> frozenset[str]:
            return frozenset(v.lower() for v in values)

        p = self.prefs
        return lowered(p.brands), lowered(p.disliked_brands), lowered(p.styles)

    def row_scores(self, candidates: Sequence[RankCandidate]) -> list[float]:
        """:meth:`row_score` of each candidate. A catalog has far fewer (brand, category, tags) kinds
        than products, so each kind is scored once; only the product affinities differ per product."""
        by_kind: dict[tuple[str, int, tuple[str, ...]], float] = {}
        products = self.product_affinity
        scores = []
        for pk, brand, category_id, tags in candidates:
            kind = (brand, category_id, tags)
            score = by_kind.get(kind)
            if score is None:
                score = by_kind[kind] = self._row_score_without_product(brand, category_id, tags)
            if pk in products:
                score += products[pk][1]
            scores.append(score)
        return scores

    def order(self, candidates: Sequence[RankCandidate], *, pool: int = POOL) -> list[int]:
        """The candidates' ids in "recommended" order, by the same rule as :meth:`rank`: the ``pool``
        best by row score ordered by the full score, the rest by row score; ties keep the candidates'
        order. The row scores are computed here; the variant terms for the pool in one query."""
        ids = [c.id for c in candidates]
        if self.is_empty or not ids:
            return ids
        if not self._row_parts():
            # Only colour, size or price remembered: every candidate gets the full score.
            return self._by_full_score(ids, {pk: i for i, pk in enumerate(ids)})
        row = self.row_scores(candidates)
        # Python's sort is stable, reversed too, so equal scores keep the candidates' order.
        by_row = sorted(range(len(ids)), key=row.__getitem__, reverse=True)
        if not self._variant_parts():
            return [ids[i] for i in by_row]
        head = by_row[:pool]
        full = self._by_full_score(
            [ids[i] for i in head], {ids[i]: i for i in head}, row={ids[i]: row[i] for i in head}
        )
        return full + [ids[i] for i in by_row[pool:]]

    def _by_full_score(
        self, ids: list[int], position: dict[int, int], *, row: dict[int, float] | None = None
    ) -> list[int]:
        """``ids`` by the full score; with ``row`` (the row scores, already known) the database adds
        only the variant terms."""
        expression = _sum(self._variant_parts()) if row is not None else self.score_expression()
        scores = dict(
            Product.objects.filter(pk__in=ids)
            .order_by()
            .annotate(memory_score=expression)
            .values_list("pk", "memory_score")
        )
        if row is not None:
            scores = {pk: row[pk] + score for pk, score in scores.items()}
        return sorted((pk for pk in ids if pk in scores), key=lambda pk: (-scores[pk], position[pk]))

    # -- the Python side -----------------------------------------------------------------------
    def explain(
        self, product: Product, variants: Sequence[VariantLike] | None = None
    ) -> tuple[float, list[str]]:
        """The same score in Python, with a reason per positive term, best first.

        ``variants``: the product's variants (rows or instances); default ``product.variants.all()``
        (prefetch them).
        """
        p = self.prefs
        terms: list[tuple[float, str]] = []
        brand = product.brand.lower()
        if variants is None:
            variants = list(product.variants.all())
        if any(b.lower() == brand for b in p.brands):
            terms.append((W_BRAND, f"because you like {product.brand}"))
        if any(b.lower() == brand for b in p.disliked_brands):
            terms.append((W_DISLIKED_BRAND, ""))
        if product.category_id in self.liked_categories:
            terms.append(
                (W_CATEGORY, f"because you like {self.liked_categories[product.category_id].lower()}")
            )
        tags = {str(t).lower() for t in product.tags or []}
        style = next((s for s in p.styles if s.lower() in tags), None)
        if style:
            terms.append((W_STYLE, f"because you like {style}"))
        colour = next(
            (c for c in p.colors if any(c.lower() in v.color.lower() for v in variants)),
            None,
        )
        if colour:
            terms.append((W_COLOR, f"comes in {colour}, a colour you like"))
        if p.disliked_colors and not any(
            not any(d.lower() in v.color.lower() for d in p.disliked_colors) for v in variants
        ):
            terms.append((W_DISLIKED_COLORS_ONLY, ""))
        for size, category_ids in self.sizes.values():
            if product.category_id in category_ids:
                if any(v.size.upper() == size.upper() and v.stock > 0 for v in variants):
                    terms.append((W_SIZE_IN_STOCK, f"in stock in your size {size}"))
                else:
                    terms.append((W_SIZE_MISSING, ""))
        if p.price_min is not None or p.price_max is not None:
            inside = any(
                (p.price_min is None or v.price >= p.price_min)
                and (p.price_max is None or v.price <= p.price_max)
                for v in variants
            )
            terms.append((W_PRICE_IN, "within your price range") if inside else (W_PRICE_OUT, ""))
        if brand in self.brand_affinity:
            label, term = self.brand_affinity[brand]
            terms.append((term, f"because you've shown interest in {label}"))
        if product.category_id in self.category_affinity:
            label, term = self.category_affinity[product.category_id]
            terms.append((term, f"because you've been looking at {label.lower()}"))
        if product.pk in self.product_affinity:
            terms.append((self.product_affinity[product.pk][1], "because you looked at it recently"))
        score = sum(t for t, _ in terms)
        reasons = [r for t, r in sorted(terms, key=lambda x: -x[0]) if t > 0 and r]
        return score, reasons


class VariantLike(Protocol):
    """What :meth:`Profile.explain` reads of a variant: a :class:`Variant` or :class:`VariantFacts`."""

    @property
    def color(self) -> str: ...
    @property
    def size(self) -> str: ...
    @property
    def stock(self) -> int: ...
    @property
    def price(self) -> Decimal: ...


class VariantFacts(NamedTuple):
    """What :meth:`Profile.explain` reads of a variant (a :class:`Variant` has the same attributes)."""

    color: str
    size: str
    stock: int
    price: Decimal


def variant_facts(product_ids: Iterable[int]) -> dict[int, list[VariantFacts]]:
    """Product id -> its variants as plain rows, in one query (no model instances: a page of 24
    products can hold a thousand variants)."""
    facts: dict[int, list[VariantFacts]] = {}
    rows = (
        Variant.objects.filter(product_id__in=list(product_ids))
        .order_by("id")
        .values_list("product_id", "color", "size", "stock", "price")
    )
    for product_id, color, size, stock, price in rows:
        facts.setdefault(product_id, []).append(VariantFacts(color, size, stock, price))
    return facts


def _path(cat: CategoryInfo, cats: dict[int, CategoryInfo]) -> list[CategoryInfo]:
    """Root first; stops on a broken or cyclic parent link instead of looping."""
    path, seen = [], set()
    node: CategoryInfo | None = cat
    while node is not None and node.id not in seen:
        seen.add(node.id)
        path.append(node)
        node = cats.get(node.parent_id) if node.parent_id else None
    return path[::-1]


def _any_iexact(field_name: str, values: Iterable[str]) -> Q:
    return reduce(lambda a, b: a | b, (Q(**{f"{field_name}__iexact": v}) for v in values))


def _any_icontains(field_name: str, values: Iterable[str]) -> Q:
    return reduce(lambda a, b: a | b, (Q(**{f"{field_name}__icontains": v}) for v in values))


def _case(*whens: When) -> Case:
    return Case(*whens, default=Value(0.0), output_field=FloatField())


def _sum(parts: list[Any]) -> Any:
    if not parts:
        return Value(0.0, output_field=FloatField())
    return reduce(lambda a, b: a + b, parts)


def _order_of(products: QuerySet[Product]) -> list[Any]:
    """The queryset's own order (explicit, else the model's), made total with the primary key."""
    order = list(products.query.order_by) or list(products.model._meta.ordering or ())
    if not any(str(o).lstrip("-") in ("pk", "id") for o in order):
        order.append("pk")
    return order


def order_cache_key(*, user_id: int, cache_token: str, candidates_key: str) -> str:
    """Where a shopper's order of one search is kept: their memory version (``cache_token``) and the
    search at a catalog version (``candidates_key``) name it, so no other shopper or version reads it."""
    return f"memory:order:{user_id}:{cache_token}:{candidates_key}"


class MemoryRanking:
    """Catalog's ``ShopperRanking`` hook (``catalog/ranking.py``), registered in ``MemoryConfig.ready``."""

    def profile(self, *, user: User) -> Profile:
        from memory.selectors import profile_for

        return profile_for(user=user)

    def rank(self, *, user: User, products: QuerySet[Product], profile: RankingProfile) -> QuerySet[Product]:
        from memory.selectors import rank_products_for_user

        return rank_products_for_user(user=user, products=products, profile=_own(profile))

    def order(
        self,
        *,
        user: User,
        candidates: Callable[[], Sequence[RankCandidate]],
        candidates_key: str,
        profile: RankingProfile,
        search: Mapping[str, Any] | None = None,
    ) -> list[int]:
        """Cached per shopper, memory version and candidates (a search at a catalog version): paging
        through a search, or coming back to it, ranks it once. With ``search``, the shopper's recent
        recommended listings are remembered (read in the same round trip as the order), so a new
        memory version can rank them ahead of the next view (``memory.services.recommended_orders_warm``)."""
        from memory.selectors import RECENT_LISTINGS_KEY, profile_for

        own = _own(profile)
        ranker = own if own is not None else profile_for(user=user)
        if not ranker.cache_token:
            return ranker.order(candidates())
        key = order_cache_key(user_id=user.pk, cache_token=ranker.cache_token, candidates_key=candidates_key)
        recent_key = RECENT_LISTINGS_KEY.format(user_id=user.pk)
        found = cache.get_many([key, recent_key] if search is not None else [key])
        order: list[int] | None = found.get(key)
        if order is None:
            order = ranker.order(candidates())
            cache.set(key, order, ORDER_CACHE_SECONDS)
        if search is not None:
            from memory.services import recommended_listing_seen

            recommended_listing_seen(user_id=user.pk, search=search, recent=found.get(recent_key))
        return order

    def reasons(
        self, *, user: MaybeUser, products: Iterable[Product], profile: RankingProfile
    ) -> dict[int, str]:
        from memory.selectors import recommendation_reasons

        return recommendation_reasons(user=user, products=products, profile=_own(profile))


def _own(profile: RankingProfile) -> Profile | None:
    """Catalog hands back the profile this ranking built; anything else is read afresh."""
    return profile if isinstance(profile, Profile) else None
