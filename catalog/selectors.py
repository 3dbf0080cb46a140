"""Reads of the catalog. :func:`product_search` is the one search the pages, the API and the assistant use.

Misspelt words are first corrected into the live catalog's own words (category names, tags, brands,
product names, colours: :func:`search_correction`), the same for the pages, the API and the assistant.
On PostgreSQL the query then runs against the ``search`` document (weights: name A; brand, categories,
tags B; description and colours C) with ``websearch_to_tsquery`` and ``ts_rank``. On SQLite every query
word must appear in the name, brand, category, tags, description or a colour, and a relevance score puts
name matches above description mentions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar, cast, overload

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.core.cache import cache
from django.db import connection, connections, router
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Lower
from redis.exceptions import RedisError

from catalog.errors import InvalidSearch, ProductNotFound
from catalog.models import Category, Product, ProductQuerySet, StorefrontSettings, Variant
from catalog.spelling import SpellingCorrector
from commerce.cache import CacheUnavailable, versioned_get
from commerce.prepared import PreparedRead, prepared

logger = logging.getLogger(__name__)

SORTS: dict[str, str] = {
    "relevance": "Best match",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "newest": "Newest",
    # The shopper's own order: product_search returns the plain order; a caller that knows the
    # shopper ranks it with memory.selectors.rank_products_for_user (catalog knows no shoppers).
    "recommended": "Recommended for you",
}
MAX_QUERY_WORDS = 8
STOP_WORDS = frozenset({"a", "an", "and", "the", "for", "with", "in", "of", "to", "on", "my", "me", "some"})
_Cached = TypeVar("_Cached")
SIZE_ORDER = ["XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"]


def _variants_prefetch() -> Prefetch[str, QuerySet[Variant], str]:
    variants = prepared(Variant.objects.order_by("id"), "catalog.variants_of_products")
    return Prefetch("variants", queryset=variants)


def product_card_queryset() -> ProductQuerySet:
    """Active products with what a product card needs (its category; price and stock are the product's
    own kept columns), in one query."""
    return Product.objects.active().select_related("category__parent").defer("search")


def product_queryset() -> ProductQuerySet:
    """Active products with their variants too (the API's ``Product``), in a constant number of queries."""
    return product_card_queryset().prefetch_related(_variants_prefetch())


def _category_filter(category: Category | str | int) -> Q:
    """A category by instance, id, slug or name; its sub-categories (three levels) count too."""
    if isinstance(category, Category):
        ids = Q(category=category) | Q(category__parent=category) | Q(category__parent__parent=category)
        return ids
    value = str(category).strip()
    q = Q()
    for prefix in ("category", "category__parent", "category__parent__parent"):
        q |= Q(**{f"{prefix}__slug": value.lower()}) | Q(**{f"{prefix}__name__iexact": value})
        if value.isdigit():
            q |= Q(**{f"{prefix}__id": int(value)})
    return q


def _words(query: str) -> list[str]:
    words = [w for w in re.findall(r"[\w']+", query.lower()) if w not in STOP_WORDS]
    return words[:MAX_QUERY_WORDS]


def _stem(word: str) -> str:
    # Just enough stemming for plurals: "hoodies" finds "Hoodie", "jeans" finds "Jean", "shoes" "Shoe".
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "ie"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _sqlite_text_search(qs: QuerySet[Product], query: str) -> QuerySet[Product]:
    words = [_stem(w) for w in _words(query)]
    if not words:
        return qs.annotate(relevance=Value(0.0, output_field=FloatField()))
    score: Any = Case(When(name__iexact=query.strip(), then=Value(50)), default=Value(0))
    score = score + Case(When(name__icontains=query.strip(), then=Value(20)), default=Value(0))
    for word in words:
        colour = Exists(Variant.objects.filter(product=OuterRef("pk"), color__icontains=word))
        in_name = Q(name__icontains=word)
        in_b = (
            Q(brand__icontains=word)
            | Q(category__name__icontains=word)
            | Q(category__parent__name__icontains=word)
            | Q(tags__icontains=word)
        )
        qs = qs.filter(in_name | in_b | Q(description__icontains=word) | Q(colour))
        score = score + Case(
            When(in_name, then=Value(10)),
            When(in_b, then=Value(4)),
            default=Value(1),
            output_field=IntegerField(),
        )
    return qs.annotate(relevance=score * Value(1.0, output_field=FloatField()))


def _postgres_text_search(qs: QuerySet[Product], query: str) -> QuerySet[Product]:
    """Products whose document holds every word (misspelt words were already corrected into the catalog's
    own by :func:`search_correction`), ranked by ``ts_rank`` with a nudge for names close to the query."""
    if not _words(query):
        return qs.annotate(relevance=Value(0.0, output_field=FloatField()))
    ts_query = SearchQuery(query, search_type="websearch", config="english")
    return qs.filter(search=ts_query).annotate(
        relevance=SearchRank(F("search"), ts_query) + TrigramWordSimilarity(query, "name") / 10
    )


def _clean_price(value: Decimal | str | int | None, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        price = Decimal(str(value))
    except ArithmeticError:
        raise InvalidSearch(f"{name} must be a number.", details={"field": name}) from None
    if not price.is_finite() or price < 0:
        raise InvalidSearch(f"{name} must be a number of at least 0.", details={"field": name})
    return price


def _color_filter(color: str) -> Q:
    """A colour as the catalog spells it, or as whole words of it: "neon" finds "neon yellow" and
    "blue" finds "navy blue", but "red" never finds "reddish"."""
    color = " ".join(color.split())
    return (
        Q(color__iexact=color)
        | Q(color__istartswith=f"{color} ")
        | Q(color__iendswith=f" {color}")
        | Q(color__icontains=f" {color} ")
    )


def matching_option(options: Iterable[str], wanted: str) -> str | None:
    """A product's own spelling of the size or colour a shopper named: exact (any case), else the one
    option holding every word asked for ("neon" is "neon yellow" when the product has no other neon;
    the same whole-word rule as the colour filter of :func:`product_search`)."""
    options = sorted(set(options))
    wanted = " ".join(wanted.lower().split())
    exact = [option for option in options if option.lower() == wanted]
    if exact:
        return exact[0]
    words = set(wanted.split())
    partial = [option for option in options if words <= set(option.lower().split())]
    return partial[0] if len(partial) == 1 else None


def _checked_terms(
    sort: str, min_price: Decimal | str | None, max_price: Decimal | str | None
) -> tuple[str, Decimal | None, Decimal | None]:
    sort = sort or "relevance"
    if sort not in SORTS:
        raise InvalidSearch(f"sort must be one of {', '.join(SORTS)}.", details={"field": "sort"})
    low, high = _clean_price(min_price, "minPrice"), _clean_price(max_price, "maxPrice")
    if low is not None and high is not None and low > high:
        raise InvalidSearch("minPrice must not be greater than maxPrice.", details={"field": "minPrice"})
    return sort, low, high


def product_search(
    *,
    query: str = "",
    category: Category | str | int | None = None,
    brand: str | None = None,
    size: str | None = None,
    color: str | None = None,
    min_price: Decimal | str | None = None,
    max_price: Decimal | str | None = None,
    sort: str = "relevance",
    in_stock_only: bool = False,
) -> QuerySet[Product]:
    """Active products matching the text query and every given filter (filters combine with AND).

    Size, colour, price range and ``in_stock_only`` must hold for the *same* variant: "size 10 in
    black under $150" means one buyable shoe, not a black 9 and a red 10. Each product carries a
    ``relevance`` annotation; ``price_min`` is its lowest price. Raises :class:`InvalidSearch` for a bad
    filter.
    """
    sort, low, high = _checked_terms(sort, min_price, max_price)

    qs: QuerySet[Product] = product_queryset()
    size = (size or "").strip()
    color = " ".join((color or "").lower().split())
    # The kept per-product summary (catalog.services.product_summaries_refresh) answers a lone price
    # bound exactly and narrows sizes and colours; what must hold for one and the same variant, and
    # stock (which a raw update may change too), is then checked on the variants of the products left.
    variant_terms = [t for t in (size, color, low, high, in_stock_only) if t not in (None, "", False)]
    qs = qs.filter(price_min__isnull=False)  # a product with no variant cannot be bought
    if low is not None:
        qs = qs.filter(price_max__gte=low)
    if high is not None:
        qs = qs.filter(price_min__lte=high)
    if connection.vendor == "postgresql":  # JSON containment (GIN-indexed) is PostgreSQL's
        if size:
            qs = qs.filter(sizes__contains=[size.lower()])
        if color:
            qs = qs.filter(color_words__contains=color.split())
    if len(variant_terms) > 1 or size or color or in_stock_only:
        variant_filter = Q(product=OuterRef("pk"))
        if size:
            variant_filter &= Q(size__iexact=size)
        if color:
            variant_filter &= _color_filter(color)
        if low is not None:
            variant_filter &= Q(price__gte=low)
        if high is not None:
            variant_filter &= Q(price__lte=high)
        if in_stock_only:
            variant_filter &= Q(stock__gt=0)
        qs = qs.filter(Exists(Variant.objects.filter(variant_filter)))
    if category is not None and category != "":
        qs = qs.filter(_category_filter(category))
    if brand:
        qs = qs.filter(brand__iexact=brand.strip())

    query = (query or "").strip()[:200]
    query = search_correction(query) or query
    if settings.USING_POSTGRES and connection.vendor == "postgresql":
        qs = _postgres_text_search(qs, query)
    else:
        qs = _sqlite_text_search(qs, query)

    if sort == "price_asc":
        return qs.order_by("price_min", "name", "id")
    if sort == "price_desc":
        return qs.order_by("-price_min", "name", "id")
    if sort == "newest":
        return qs.order_by("-created_at", "-id")
    if query:
        return qs.order_by("-relevance", "name", "id")
    return qs.order_by("name", "id")


# A guest's search is the same for every guest until the catalog changes: the matches' total and the ids
# of the first pages are cached under the listing version that every catalog write bumps (stock too,
# whenever a variant sells out or comes back), so a repeated search costs two small queries by primary
# key. The products themselves (price, stock) are always read fresh.
SEARCH_CACHED_IDS = 240  # ten pages of 24


class SearchResults:
    """The products matching one search (:func:`product_search`'s arguments), in order, as a lazy
    sequence of product cards (no variants): ``count()`` and slices, like a QuerySet (the Paginator and
    the API take either), served from the cache described above. A bad filter raises
    :class:`InvalidSearch` at once."""

    def __init__(self, **search: Any) -> None:
        _checked_terms(search.get("sort", ""), search.get("min_price"), search.get("max_price"))
        self._search = search
        key = repr(sorted((k, str(v)) for k, v in search.items() if v not in (None, "", False)))
        self._key = "search:" + hashlib.sha256(key.encode()).hexdigest()[:32]
        self._head: tuple[int, list[int]] | None = None

    @property
    def cache_name(self) -> str:
        """The :func:`listing_cached` name of the search's head (its total and first ids): for
        ``listing_version_pinned(results.cache_name)``, which reads it with the version."""
        return self._key

    def _matches(self) -> QuerySet[Product]:
        return product_search(**self._search)

    def _cached_head(self) -> tuple[int, list[int]]:
        if self._head is None:
            self._head = listing_cached(self._key, self._build_head)
        return self._head

    def _build_head(self) -> tuple[int, list[int]]:
        matches = self._matches()
        ids = list(matches.values_list("pk", flat=True)[:SEARCH_CACHED_IDS])
        total = len(ids) if len(ids) < SEARCH_CACHED_IDS else matches.count()
        return total, ids

    def count(self) -> int:
        return self._cached_head()[0]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> LazyProducts:
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("SearchResults supports only slices")
        start, stop = item.start or 0, item.stop if item.stop is not None else self.count()
        return LazyProducts(lambda: self._page_ids(start, stop))

    def _page_ids(self, start: int, stop: int) -> list[int]:
        if stop <= SEARCH_CACHED_IDS:
            return self._cached_head()[1][start:stop]
        # Deep pages are rare: read them from the search itself.
        return list(self._matches().values_list("pk", flat=True)[start:stop])

    def rankable(self) -> bool:
        """Whether a shopper's order can be computed from :meth:`rank_candidates` (no more than
        :data:`RANK_CANDIDATES_MAX` matches); otherwise the ranking runs in the database."""
        return self.count() <= RANK_CANDIDATES_MAX

    def terms(self) -> dict[str, Any]:
        """The search's arguments: ``SearchResults(**terms)`` is the same search again (a ranking that
        remembers a shopper's searches can rank them later, off the request)."""
        return dict(self._search)

    def candidates_key(self) -> str:
        """Names this search's candidates at the current catalog version (for caches of orders)."""
        return f"{self._key}:v{listing_cache_version()}"

    def rank_candidates(self) -> list[RankCandidate]:
        """Every match in order, with what a shopper's ranking reads of a product row (brand, category,
        tags), cached beside the head (at most :data:`RANK_CANDIDATES_MAX`), and kept in this process
        too for the same catalog version: a whole catalog's are ~20,000 rows, slower to unpickle than
        to rank."""
        key = self.candidates_key()
        with _recent_candidates_lock:
            candidates = _recent_candidates.get(key)
            if candidates is not None:
                _recent_candidates.move_to_end(key)
                return candidates
        candidates = listing_cached(f"{self._key}:candidates", self._build_candidates)
        with _recent_candidates_lock:
            _recent_candidates[key] = candidates
            while len(_recent_candidates) > RECENT_CANDIDATES_KEPT:
                _recent_candidates.popitem(last=False)
        return candidates

    def _build_candidates(self) -> list[RankCandidate]:
        rows = self._matches().values_list("pk", "brand", "category_id", "tags")[: RANK_CANDIDATES_MAX + 1]
        return [
            RankCandidate(id=pk, brand=brand.lower(), category_id=category_id, tags=_lowered_tags(tags))
            for pk, brand, category_id, tags in rows
        ]

    def queryset(self) -> QuerySet[Product]:
        """The same search as a queryset (for work the cache does not cover)."""
        return self._matches()


# A "recommended for you" order of up to this many matches is computed from cached candidates; a search
# with more (a whole catalog listing) is ordered by the database instead.
RANK_CANDIDATES_MAX = 25_000
# The last searches' candidates kept in this process (keyed by search and catalog version).
RECENT_CANDIDATES_KEPT = 16
_recent_candidates: OrderedDict[str, list[RankCandidate]] = OrderedDict()
_recent_candidates_lock = threading.Lock()


class RankCandidate(NamedTuple):
    """A matching product as a shopper's ranking sees it before the variants: lower-cased brand and
    tags. A named tuple, not a dataclass: thousands are read from the cache per ranked page, and a
    tuple unpickles several times faster."""

    id: int
    brand: str
    category_id: int
    tags: tuple[str, ...]


def _lowered_tags(tags: Any) -> tuple[str, ...]:
    return tuple(str(t).lower() for t in tags) if isinstance(tags, list) else ()


class RankedProducts:
    """Products in an order decided by id (a shopper's ranking), paged like :class:`SearchResults`:
    ``count()`` and slices; a page is read as product cards (no variants), in two primary-key queries
    at most."""

    def __init__(self, ids: list[int]) -> None:
        self._ids = ids

    def count(self) -> int:
        return len(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Product: ...
    @overload
    def __getitem__(self, index: slice) -> LazyProducts: ...
    def __getitem__(self, index: int | slice) -> Product | LazyProducts:
        if isinstance(index, int):
            return self[index : index + 1][0]
        ids = self._ids[index]
        return LazyProducts(lambda: ids)


class LazyProducts(Sequence[Product]):
    """Product cards by id, in the ids' order, read on first use (a page whose rendered cards are
    cached never reads them). ``then`` runs once on the products read (e.g. to attach reasons)."""

    def __init__(
        self, ids: Callable[[], list[int]], then: Callable[[list[Product]], None] | None = None
    ) -> None:
        self._ids = ids
        self._then = then
        self._products: list[Product] | None = None

    def _load(self) -> list[Product]:
        if self._products is None:
            ids = self._ids()
            found = {p.pk: p for p in product_card_queryset().filter(pk__in=ids)}
            self._products = [found[pk] for pk in ids if pk in found]
            if self._then is not None:
                self._then(self._products)
        return self._products

    def ids(self) -> list[int]:
        """The products' ids, in order, without reading the products."""
        return self._ids() if self._products is None else [p.pk for p in self._products]

    def then(self, callback: Callable[[list[Product]], None]) -> LazyProducts:
        """The same products, with ``callback`` run on them when they are first read."""
        return LazyProducts(self._ids, callback)

    def __len__(self) -> int:
        return len(self._load())

    @overload
    def __getitem__(self, index: int) -> Product: ...
    @overload
    def __getitem__(self, index: slice) -> list[Product]: ...
    def __getitem__(self, index: int | slice) -> Product | list[Product]:
        return self._load()[index]


# The product page, the API's product and the assistant's chosen product read it (built once).
_ACTIVE_PRODUCT = PreparedRead("catalog.active_product", lambda pk: product_queryset().filter(pk=pk)[:1])


def product_active(product_id: int) -> Product | None:
    """The active product with this id, with its category and variants (as :func:`product_queryset`)."""
    return _ACTIVE_PRODUCT.first(product_id)


def product_get(*, product_id: int | str) -> Product:
    """One active product with its category and variants; :class:`ProductNotFound` otherwise."""
    text = str(product_id).strip()
    if not text.isdigit() or len(text) > 18:
        raise ProductNotFound(f"No product with id {text!r}.", details={"productId": text})
    product = product_active(int(text))
    if product is None:
        raise ProductNotFound(f"No product with id {text!r}.", details={"productId": text})
    return product


def product_variant_stock(*, product_id: int) -> list[tuple[int, int]]:
    """``(variant id, stock)`` of a product's variants in page order (by id), one light query: the part of
    a product page that changes without a listing version (a sale that leaves units). Empty for a product
    without variants, an inactive one or no such id (the caller then reads the product itself)."""
    rows = (
        Variant.objects.filter(product_id=product_id, product__is_active=True)
        .order_by("id")
        .values_list("pk", "stock")
    )
    return [(pk, stock) for pk, stock in rows]


# The ids as one parameter (an array, a JSON list), so the statement is the same for any number of them
# (one prepared statement on PostgreSQL). Literal names: Variant's table and columns.
_STOCK_BY_PRODUCT_SQL = {
    "postgresql": "SELECT id, stock FROM catalog_variant WHERE product_id = ANY(%s::bigint[])",
    "sqlite": "SELECT id, stock FROM catalog_variant WHERE product_id IN (SELECT value FROM json_each(%s))",
}


def variant_stock_by_id(product_ids: Sequence[int]) -> dict[int, int]:
    """``{variant id: stock}`` of every variant of these products, one light query (the part of a cached
    product JSON that is read fresh, on every search the chat answers: written as SQL, a third of the
    CPU of the same query through the ORM)."""
    ids = [int(pk) for pk in product_ids]
    if not ids:
        return {}
    reading = connections[router.db_for_read(Variant)]
    with reading.cursor() as cursor:
        parameter = ids if reading.vendor == "postgresql" else json.dumps(ids)
        cursor.execute(_STOCK_BY_PRODUCT_SQL[reading.vendor], [parameter])
        return dict(cursor.fetchall())


def product_named(*, phrase: str) -> Product | None:
    """The one active product whose name holds every word of ``phrase`` as whole words ("cloud" ->
    Cloud Hoodie, "trail runner" -> Trail Runner 2); None when no product or several do."""
    words = _words(phrase)
    if not words:
        return None
    candidates = Product.objects.filter(is_active=True)
    for word in words:
        candidates = candidates.filter(name__icontains=word)
    named = [p for p in candidates.order_by("pk")[:20] if set(words) <= set(_words(p.name))]
    return named[0] if len(named) == 1 else None


def product_featured(*, limit: int = 8) -> list[Product]:
    """Products for the home page: in stock, those tagged "featured" first (staff tag them in the admin)."""
    featured = Case(When(tags__icontains='"featured"', then=Value(0)), default=Value(1))
    return list(
        product_queryset().in_stock().annotate(featured_rank=featured).order_by("featured_rank", "id")[:limit]
    )


@dataclass
class CategoryNode:
    category: Category
    product_count: int = 0
    children: list[CategoryNode] = field(default_factory=list)

    @property
    def total_count(self) -> int:
        return self.product_count + sum(child.total_count for child in self.children)


# The listing's filter values and category tree change only with the catalog itself, yet cost the most
# of a listing page at 20k products: they are cached under a version that every catalog write bumps
# (catalog.services.catalog_listing_changed, from the model signals connected in catalog/apps.py).
LISTING_CACHE_SECONDS = 600
LISTING_VERSION_KEY = "catalog:listing-version"


# A read-only page reads the version once (catalog.views pins it for the request): the listing page
# otherwise asked Redis for it five times (facets, tree, vocabulary, search, fragments).
_pinned_listing_version: ContextVar[int | None] = ContextVar("catalog_listing_version", default=None)
# What the pinning read with the version (``listing_version_pinned(*prefetch)``): cached values by name.
_prefetched_listing_values: ContextVar[dict[str, Any] | None] = ContextVar("catalog_prefetched", default=None)


@contextmanager
def listing_version_pinned(*prefetch: str) -> Iterator[int]:
    """Within the block ``listing_cache_version()`` answers the version read on entry, with no round
    trip. Only for reads: a catalog write inside the block would not be seen by the block's reads.

    ``prefetch`` names :func:`listing_cached` values the block will read (a search's head,
    ``SearchResults.cache_name``): they are read with the version, in the same round trip, and the
    block's ``listing_cached`` of them asks the cache nothing more."""
    pinned = _pinned_listing_version.get()
    if pinned is not None:  # within another pinned block: its version (and what it read) serve
        yield pinned
        return
    version, prefetched = _version_and_values(prefetch)
    token = _pinned_listing_version.set(version)
    values_token = _prefetched_listing_values.set(prefetched)
    try:
        yield version
    finally:
        _prefetched_listing_values.reset(values_token)
        _pinned_listing_version.reset(token)


# A prefetched name the cache did not hold: listing_cached builds it without asking the cache again.
_NOT_CACHED = object()


def _version_and_values(names: Sequence[str]) -> tuple[int, dict[str, Any]]:
    if not names:
        return listing_cache_version(), {}
    try:
        version, values = versioned_get(LISTING_VERSION_KEY, [f"catalog:{name}:v" for name in names])
    except (CacheUnavailable, RedisError, OSError):
        return listing_cache_version(), {}  # the plain read, which answers even with Redis down
    if version is None:  # never set, or evicted: listing_cache_version() starts one
        return listing_cache_version(), {}
    return int(version), {
        name: _NOT_CACHED if value is None else value for name, value in zip(names, values, strict=True)
    }


def listing_cache_version() -> int:
    pinned = _pinned_listing_version.get()
    if pinned is not None:
        return pinned
    try:
        version = cache.get(LISTING_VERSION_KEY)
    except (RedisError, OSError) as exc:
        # No shared version: a new one each time, so nothing cached in this process is trusted.
        logger.warning("catalog cache unreachable, listing version unknown: %s", exc)
        return time.time_ns() // 1000
    if version is None:
        # Starts from the clock, not from 1: if the version key is evicted, its successor cannot be
        # a version whose (stale) values may still be cached.
        cache.add(LISTING_VERSION_KEY, time.time_ns() // 1000, None)
        version = cache.get(LISTING_VERSION_KEY) or 1
    return int(version)


def listing_cached(name: str, build: Callable[[], _Cached]) -> _Cached:
    """``build()``'s value, cached under the listing version; computed afresh, and a warning logged,
    when the cache cannot be reached (a search still answers, only slower)."""
    read_with_version = _prefetched_listing_values.get()
    prefetched = read_with_version.get(name) if read_with_version is not None else None
    if prefetched is not None and prefetched is not _NOT_CACHED:
        return cast(_Cached, prefetched)  # what this name's key held at the pinned version
    try:
        key = f"catalog:{name}:v{listing_cache_version()}"
        value: _Cached | None = None if prefetched is _NOT_CACHED else cache.get(key)
    except (RedisError, OSError) as exc:
        logger.warning("catalog cache unreachable, computing %s without it: %s", name, exc)
        return build()
    if value is None:
        value = build()
        if prefetched is _NOT_CACHED and read_with_version is not None:
            read_with_version[name] = value
        try:
            cache.set(key, value, LISTING_CACHE_SECONDS)
        except (RedisError, OSError) as exc:
            logger.warning("catalog cache unreachable, %s not kept: %s", name, exc)
    return value


def cached_many(names: list[str], build: Callable[[list[str]], dict[str, _Cached]]) -> dict[str, _Cached]:
    """`listing_cached` for many values at once (one cache round trip): ``build(missing names)`` makes
    those not cached. A value ``build`` does not return is left out. Computed afresh, and a warning
    logged, when the cache cannot be reached."""
    try:
        version = listing_cache_version()
        keys = {name: f"catalog:{name}:v{version}" for name in names}
        found: dict[str, _Cached] = cache.get_many(list(keys.values()))
    except (RedisError, OSError) as exc:
        logger.warning("catalog cache unreachable, computing %s values without it: %s", len(names), exc)
        return build(names)
    values = {name: found[keys[name]] for name in names if keys[name] in found}
    missing = [name for name in names if name not in values]
    if missing:
        built = build(missing)
        values.update(built)
        try:
            cache.set_many({keys[name]: value for name, value in built.items()}, LISTING_CACHE_SECONDS)
        except (RedisError, OSError) as exc:
            logger.warning("catalog cache unreachable, %s values not kept: %s", len(built), exc)
    return values


# --- the catalog's own vocabulary: typo correction for every search ------------------------------------

_WORD_RE = re.compile(r"[a-z]+")
# Everyday words of a search that are not the catalog's and must never be "corrected" into it.
QUERY_WORDS = frozenset(
    {
        "show", "find", "looking", "need", "want", "please", "pls", "some", "any", "new", "cheap", "best",
        "under", "over", "below", "above", "size", "color", "colour", "price", "sale", "women", "men",
        "mens", "womens", "kids", "with", "without", "like", "good", "nice", "pair", "pairs",
    }
)  # fmt: skip


def _build_vocabulary() -> list[str]:
    """Every word the catalog itself uses: category names, brands, tags, product names, colours, sizes."""
    texts: list[str] = list(Category.objects.values_list("name", flat=True))
    active = Product.objects.active()
    texts += active.values_list("brand", flat=True).distinct()
    texts += active.values_list("name", flat=True)
    for tags in active.exclude(tags=[]).values_list("tags", flat=True):
        texts += [str(t) for t in tags or []]
    texts += Variant.objects.filter(product__is_active=True).values_list("color", flat=True).distinct()
    words = {w for text in texts for w in _WORD_RE.findall(text.lower()) if len(w) > 1}
    return sorted(words)


_corrector_memo: tuple[int, SpellingCorrector] | None = None


def catalog_corrector() -> SpellingCorrector:
    """A spelling corrector into the live catalog's words, rebuilt when the catalog changes (the listing
    version every catalog write bumps): the words are shared through the cache, the index built once
    per process and version."""
    global _corrector_memo
    version = listing_cache_version()
    memo = _corrector_memo
    if memo is not None and memo[0] == version:
        return memo[1]
    words = frozenset(listing_cached("vocabulary", _build_vocabulary))
    corrector = SpellingCorrector(words, words | QUERY_WORDS | STOP_WORDS)
    _corrector_memo = (version, corrector)
    return corrector


def search_correction(query: str) -> str | None:
    """The query with its misspelt words replaced by the catalog's own ("runing shoes" -> "running
    shoes", "hoddie" -> "hoodie", "jens" -> "jeans"), or None when nothing needed correcting. Every
    search uses it (:func:`product_search`), and each door says what it searched for."""
    if not query or not _WORD_RE.search(query.lower()):
        return None
    corrector = catalog_corrector()
    changed = False

    def fix(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group(0)
        corrected = corrector.correct(word.lower())
        if corrected is None:
            return word
        changed = True
        return corrected

    corrected = re.sub(r"[A-Za-z]+", fix, query)
    return corrected if changed else None


_corrections: OrderedDict[tuple[int, str], str | None] = OrderedDict()
_corrections_lock = threading.Lock()
CORRECTIONS_KEPT = 512


def search_correction_cached(query: str) -> str | None:
    """:func:`search_correction`, remembered per process for each (listing version, query): a repeated
    typo search ("runing shoes") does not correct its words again until the catalog changes."""
    if not query:
        return None
    key = (listing_cache_version(), query)
    with _corrections_lock:
        if key in _corrections:
            _corrections.move_to_end(key)
            return _corrections[key]
    corrected = search_correction(query)
    with _corrections_lock:
        _corrections[key] = corrected
        while len(_corrections) > CORRECTIONS_KEPT:
            _corrections.popitem(last=False)
    return corrected


def category_tree() -> list[CategoryNode]:
    """The whole category tree (roots first, children in order) with active product counts.

    One query when the catalog changed since it was last built, none otherwise (cached)."""
    return listing_cached("category-tree", _build_category_tree)


def _build_category_tree() -> list[CategoryNode]:
    rows = Category.objects.annotate(
        n=Count("products", filter=Q(products__is_active=True), distinct=True)
    ).order_by("position", "name")
    nodes = {c.pk: CategoryNode(category=c, product_count=c.n) for c in rows}
    roots: list[CategoryNode] = []
    for node in nodes.values():
        parent = nodes.get(node.category.parent_id) if node.category.parent_id is not None else None
        (parent.children if parent else roots).append(node)
    return roots


def size_sort_key(size: str) -> tuple[int, float, str]:
    try:
        return (0, float(size), size)
    except ValueError:
        pass
    upper = size.upper()
    if upper in SIZE_ORDER:
        return (1, SIZE_ORDER.index(upper), size)
    return (2, 0, size)


@dataclass(frozen=True)
class Facets:
    brands: list[str]
    sizes: list[str]
    colors: list[str]


def catalog_facets() -> Facets:
    """The values the listing's filters offer (brands, sizes, colours) across the active catalog (cached)."""
    return listing_cached("facets", _build_catalog_facets)


def _build_catalog_facets() -> Facets:
    active = Variant.objects.filter(product__is_active=True)
    brands = Product.objects.active().order_by(Lower("brand")).values_list("brand", flat=True).distinct()
    sizes = active.exclude(size="").order_by().values_list("size", flat=True).distinct()
    colors = active.exclude(color="").order_by().values_list(Lower("color"), flat=True).distinct()
    return Facets(
        brands=list(dict.fromkeys(brands)),
        sizes=sorted(set(sizes), key=size_sort_key),
        colors=sorted(set(colors)),
    )


def low_stock_variants() -> QuerySet[Variant]:
    """Variants still on sale with only a few units left (the admin's "Low" stock level)."""
    return Variant.objects.low_stock()


@dataclass(frozen=True)
class StorefrontHero:
    headline: str
    text: str
    search_hint: str


HERO_CATEGORIES = 5
HERO_BRANDS = 3


def storefront_hero() -> StorefrontHero:
    """The home page's title and sentence: staff's words where set (StorefrontSettings), otherwise
    written from the catalog. Cached under the catalog version (saving the settings bumps it too)."""
    return listing_cached("storefront-hero", _build_storefront_hero)


def _build_storefront_hero() -> StorefrontHero:
    chosen = StorefrontSettings.objects.filter(pk=1).first()
    headline = chosen.hero_headline.strip() if chosen else ""
    text = chosen.hero_text.strip() if chosen else ""
    tree = category_tree()
    if not headline:
        roots = [node.category.name.lower() for node in tree if node.total_count]
        headline = f"Shop {_joined(roots)}" if roots else "New products are on their way"
    names = _largest_category_names(tree)
    if not text:
        text = _catalog_sentence(names)
    hint = f"e.g. {', '.join(names[:3])}" if names else ""
    return StorefrontHero(headline=headline, text=text, search_hint=hint)


def _largest_category_names(tree: list[CategoryNode]) -> list[str]:
    """The categories holding most products directly, in the tree's order, in lower case."""
    nodes: list[CategoryNode] = []
    pending = list(tree)
    while pending:
        node = pending.pop(0)
        nodes.append(node)
        pending.extend(node.children)
    largest = sorted((n for n in nodes if n.product_count), key=lambda n: -n.product_count)[:HERO_CATEGORIES]
    return [n.category.name.lower() for n in nodes if n in largest]


def _catalog_sentence(names: list[str]) -> str:
    """ "Running shoes, hoodies and jeans from Stride, Northpeak and more.": the largest categories and
    the brands with most products."""
    if not names:
        return ""
    rows = (
        Product.objects.filter(is_active=True)
        .exclude(brand="")
        .values("brand")
        .annotate(n=Count("id"))
        .order_by("-n", "brand")[:HERO_BRANDS]
    )
    brands = [row["brand"] for row in rows]
    sentence = _joined(names)
    if brands:
        sentence += f" from {', '.join(brands)} and more"
    return sentence[0].upper() + sentence[1:] + "."


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
