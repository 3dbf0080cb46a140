"""Storefront pages: home, listing (HTMX swaps only the results), product detail, placeholder images."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError

from catalog import listing, ranking
from catalog.errors import InvalidSearch, ProductNotFound
from catalog.forms import page_search_form
from catalog.models import LOW_STOCK_THRESHOLD, Product
from catalog.ranking import RankingProfile
from catalog.selectors import (
    LISTING_CACHE_SECONDS,
    SORTS,
    SearchResults,
    catalog_facets,
    category_tree,
    listing_cache_version,
    listing_version_pinned,
    product_featured,
    product_get,
    product_variant_stock,
    search_correction,
    storefront_hero,
)
from catalog.signals import product_viewed
from commerce.accounts.shoppers import ShopperRequest

logger = logging.getLogger(__name__)


@require_GET
def home(request: CatalogRequest) -> HttpResponse:
    """The "For you" row (memory's template tag) shows only for a signed-in shopper with memory."""
    return render(
        request,
        "catalog/home.html",
        {"featured": product_featured(limit=8), "categories": category_tree(), "hero": storefront_hero()},
    )


class CatalogRequest(ShopperRequest):
    """A catalog page's request; it remembers the shopper's ranking profile once read."""

    _shopper_profile: RankingProfile | None


def _shopper_profile(request: CatalogRequest) -> RankingProfile | None:
    """The signed-in shopper's ranking profile, read once per request (ranking, reasons and the sort
    menu all use it); None for a guest."""
    if not hasattr(request, "_shopper_profile"):
        request._shopper_profile = ranking.shopper_profile(user=request.user)
    return request._shopper_profile


def _recommended_page(request: CatalogRequest, results: SearchResults, page_number: str | None):
    """A page in "recommended for you" order, each card with its reason ("because you like denim").

    A shopper with nothing remembered gets ``results`` in their plain order and no reasons (memory's
    selectors answer so); a bounded number of queries whatever the page size.
    """
    return listing.ranked_page(request.user, _shopper_profile(request), results, page_number)


@require_GET
def kiosk(request: CatalogRequest) -> HttpResponse:
    """The same store in a kiosk layout: the assistant first, large touch targets, featured products."""
    return render(request, "catalog/kiosk.html", {"featured": product_featured(limit=6)})


def _query_without_page(request: CatalogRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return urlencode([(k, v) for k, values in params.lists() for v in values if v != ""])


# The filters and the cards of a page are the same for every shopper who sees the same page (the cards
# carry price and "in stock", which bump the listing version when they change): rendered once per
# version and query string, and kept as long as the other listing caches.
FRAGMENT_SECONDS = LISTING_CACHE_SECONDS


def _one_listing_version(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The listing version read once for the whole (read-only) page, not once per cached part."""

    @wraps(view)
    def pinned(request: CatalogRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with listing_version_pinned():
            return view(request, *args, **kwargs)

    return pinned


@require_GET
@_one_listing_version
def product_list(request: CatalogRequest) -> HttpResponse:
    form = page_search_form(request.GET)
    page = None
    personal = False
    personal_token = ""
    cards_key = ""
    if form.is_valid():
        search = form.search_kwargs()
        try:
            if search.get("sort") == "recommended" and request.user.is_authenticated:
                results = SearchResults(**search)
                page = _recommended_page(request, results, request.GET.get("page"))
                personal = True
                profile = _shopper_profile(request)
                personal_token = profile.cache_token if profile is not None else ""
                cards_key = listing.personal_cards_key(
                    results=results, page_number=page.number, user_id=request.user.pk, token=personal_token
                )
            else:  # the same for every shopper (a guest's "recommended" is the plain order): cached
                # SearchResults pages like a queryset (count, slicing); the stubs know only sequences.
                results_in_order = SearchResults(**search)
                page = Paginator(results_in_order, listing.PAGE_SIZE).get_page(  # type: ignore[arg-type]
                    request.GET.get("page")
                )
        except InvalidSearch as exc:
            form.add_error(None, exc.message)
    corrected = search_correction(form.cleaned_data.get("q") or "") if form.is_valid() else None
    address_key = f"v{listing_cache_version()}:{request.GET.urlencode()}"
    context = {
        "form": form,
        "page": page,
        "base_query": _query_without_page(request),
        "corrected_query": corrected,
        # A shopper's own cards are cached under their own key, never a guest's for the same address:
        # the search, the page, the shopper and their memory version (a write of their memory makes a
        # new one), for as long as their ranked order is kept, and rendered ahead of the view after such
        # a write (recommended_listing_warm); with no version (nothing cached) rendered every time.
        # Everyone else's cards are named by the address.
        "cards_key": cards_key if personal else address_key,
        "cards_seconds": (listing.PERSONAL_FRAGMENT_SECONDS if personal_token else 0)
        if personal
        else FRAGMENT_SECONDS,
    }
    # A history restore asks for the whole page even though it comes from htmx.
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "catalog/product_list.html#results", context)
    else:
        # "Recommended for you" is offered only to a shopper with something remembered.
        remembered = ranking.remembers(profile=_shopper_profile(request))
        sorts = SORTS if remembered else {k: v for k, v in SORTS.items() if k != "recommended"}
        context.update(
            # Read only when the filters fragment is not cached (each is a cache round trip).
            facets=SimpleLazyObject(catalog_facets),
            categories=SimpleLazyObject(category_tree),
            sorts=sorts,
            filters_seconds=FRAGMENT_SECONDS,
            # Nothing of the shopper's is in the filters (the sort menu varies only with `remembered`):
            # shared by every page of this address, so a new memory version does not render them again.
            filters_key=f"{address_key}:{remembered}",
        )
        response = render(request, "catalog/product_list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# A product page's shopper-independent parts (catalog/_product_detail_parts.html), rendered without a
# request and kept per product, listing version (every write of the product, its variants, its category
# bumps it), what its variants' stock shows and the selected variant. Stock is read fresh on every view
# (one light query): a sale that leaves units does not bump the version but changes "Only N left".
DETAIL_SECONDS = LISTING_CACHE_SECONDS
DETAIL_PARTS_TEMPLATE = "catalog/_product_detail_parts.html"


def _stock_shown(stock: int) -> int:
    """What a variant's stock shows on the page: "Only N left" below the threshold, else only whether it
    is on sale; so selling one of forty units keeps the cached page."""
    return stock if stock <= LOW_STOCK_THRESHOLD else LOW_STOCK_THRESHOLD + 1


def _selected_variant_id(stock: list[tuple[int, int]], wanted: str) -> int | None:
    """The variant the page opens on: ``?variant=`` if the product has it, else the first in stock."""
    return next((pk for pk, _ in stock if str(pk) == wanted), None) or next(
        (pk for pk, units in stock if units > 0), None
    )


def _detail_parts(product: Product, selected_id: int | None) -> dict[str, Any]:
    variants = list(product.variants.all())
    selected = next((v for v in variants if v.pk == selected_id), None)
    colours: dict[str, list] = {}
    for v in variants:
        colours.setdefault(v.color or "default", []).append(v)
    context = {
        "product": product,
        "colours": colours,
        "selected": selected,
        "sold_out": all(not v.in_stock for v in variants),
    }
    return {
        "title": product.name,
        "description": Truncator(product.description).chars(150),
        # No request: no context processor runs, so no CSRF token, nonce or cart can be cached here.
        "intro": render_to_string(f"{DETAIL_PARTS_TEMPLATE}#intro", context),
        "picker": render_to_string(f"{DETAIL_PARTS_TEMPLATE}#picker", context),
    }


def product_detail_parts_key(
    *, product_id: int, stock: list[tuple[int, int]], selected_id: int | None
) -> str:
    shown = ",".join(f"{pk}:{_stock_shown(units)}" for pk, units in stock)
    digest = hashlib.blake2b(shown.encode(), digest_size=12).hexdigest()
    return f"catalog:product-page:{product_id}:v{listing_cache_version()}:{digest}:{selected_id or 0}"


@require_GET
@_one_listing_version
def product_detail(request: CatalogRequest, product_id: str) -> HttpResponse:
    text = product_id.strip()
    if not text.isdigit() or len(text) > 18:
        raise Http404("No such product.")
    stock = product_variant_stock(product_id=int(text))
    selected_id = _selected_variant_id(stock, request.GET.get("variant", ""))
    parts: dict[str, Any] | None = None
    key = ""
    try:
        key = product_detail_parts_key(product_id=int(text), stock=stock, selected_id=selected_id)
        parts = cache.get(key) if stock else None  # a product without variants is read every time
    except (RedisError, OSError) as exc:
        logger.warning("catalog cache unreachable, product page rendered without it: %s", exc)
    if parts is None:
        try:
            product = product_get(product_id=text)
        except ProductNotFound:
            raise Http404("No such product.") from None
        # The variants read with the product may be newer than ``stock``: pick from them.
        fresh = [(v.pk, v.stock) for v in product.variants.all()]
        if fresh != stock:
            stock, key = fresh, ""
            selected_id = _selected_variant_id(stock, request.GET.get("variant", ""))
        parts = _detail_parts(product, selected_id)
        if key:
            try:
                cache.set(key, parts, DETAIL_SECONDS)
            except (RedisError, OSError) as exc:
                logger.warning("catalog cache unreachable, product page not kept: %s", exc)
    # A signed-in shopper's view feeds their interests (deduplicated, written by a task after commit).
    product_viewed.send(sender=Product, user=request.user, product_id=int(text))
    # Both parts are HTML our own template rendered (and escaped) above, kept in the cache as text.
    intro, picker = mark_safe(parts["intro"]), mark_safe(parts["picker"])  # noqa: S308  # nosec B308 B703
    detail = {**parts, "intro": intro, "picker": picker}
    return render(request, "catalog/product_detail.html", {"detail": detail})


COLOUR_HEX = {
    "black": "#1f2328",
    "white": "#e9ecef",
    "grey": "#8a939c",
    "navy": "#1d3461",
    "blue": "#2f6fde",
    "red": "#c62d2d",
    "orange": "#e8772e",
    "olive": "#6b7a3a",
    "green": "#2e8b57",
    "khaki": "#b8a67a",
    "cream": "#efe6cf",
    "indigo": "#34407a",
    "burgundy": "#7a1f36",
    "teal": "#17858a",
    "sand": "#d2bc8f",
    "charcoal": "#3b4046",
    "plum": "#6d3a6b",
    "yellow": "#e3b81c",
    "coral": "#ef6f5e",
}


def _placeholder_svg(product: Product) -> str:
    """A card-sized SVG: the product's first colour (or a hue from its slug) and its name."""
    first = next(iter(product.variants.all()), None)
    colour = COLOUR_HEX.get(first.color.split()[-1] if first and first.color else "", "")
    if not colour:
        hue = int(hashlib.sha256(product.slug.encode()).hexdigest()[:4], 16) % 360
        colour = f"hsl({hue} 45% 45%)"
    words, lines = product.name.split(), [""]
    for word in words:
        if len(lines[-1]) + len(word) > 18 and lines[-1]:
            lines.append("")
        lines[-1] = f"{lines[-1]} {word}".strip()
    text = "".join(
        f'<tspan x="200" dy="{0 if i == 0 else 30}">{escape(line)}</tspan>'
        for i, line in enumerate(lines[:3])
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300" '
        f'role="img" aria-label="{escape(product.name)}">'
        f'<rect width="400" height="300" fill="{colour}"/>'
        '<rect x="24" y="24" width="352" height="252" rx="18" fill="#ffffff" fill-opacity="0.82"/>'
        f'<text x="200" y="{150 - 15 * (min(len(lines), 3) - 1)}" text-anchor="middle" '
        'font-family="system-ui, sans-serif" font-size="26" font-weight="700" fill="#1b1f24">'
        f"{text}</text>"
        f'<text x="200" y="250" text-anchor="middle" font-family="system-ui, sans-serif" font-size="18" '
        f'fill="#5b6470">{escape(product.brand)}</text></svg>'
    )


@require_GET
def product_image(request: CatalogRequest, product_id: str) -> HttpResponse:
    try:
        product = product_get(product_id=product_id)
    except ProductNotFound:
        raise Http404("No such product.") from None
    response = HttpResponse(_placeholder_svg(product), content_type="image/svg+xml")
    patch_cache_control(response, public=True, max_age=86400)
    return response
