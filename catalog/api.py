"""Catalog API (CONTRACT.md section 2): ``GET /api/v1/products`` and ``GET /api/v1/products/{id}``."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import ranking
from catalog.forms import PRICE_PATTERN, search_kwargs_from_api
from catalog.models import Product
from catalog.selectors import (
    SORTS,
    LazyProducts,
    RankedProducts,
    SearchResults,
    listing_version_pinned,
    product_get,
    search_correction_cached,
)
from catalog.serializers import (
    ProductListOut,
    ProductOut,
    dumps_json,
    product_dicts,
    product_json_by_id,
    product_to_dict,
)
from catalog.signals import product_viewed
from commerce.accounts.authentication import OptionalJWTAuthentication, PersonalAccessTokenAuthentication
from commerce.openapi import TEXT_PATTERN, Error, error_response, link, response_links
from commerce.pagination import limit_offset_parameters, parse_limit_offset

__all__ = ["ProductDetailView", "ProductListView", "product_to_dict"]


_PRICE = {"type": "string", "pattern": PRICE_PATTERN}


def _text(max_length: int) -> dict:
    return {"type": "string", "maxLength": max_length, "pattern": TEXT_PATTERN}


def _param(name: str, description: str, type_=OpenApiTypes.STR, **kwargs) -> OpenApiParameter:
    return OpenApiParameter(
        name, type_, OpenApiParameter.QUERY, required=False, description=description, **kwargs
    )


class ProductListView(APIView):
    # Public; a valid Bearer token only adds the caller's own order for sort=recommended.
    authentication_classes = [PersonalAccessTokenAuthentication, OptionalJWTAuthentication]

    @extend_schema(
        operation_id="products_list",
        extensions=response_links(
            200, GetProduct=link("products_retrieve", parameters={"product_id": "$response.body#/items/0/id"})
        ),
        tags=["catalog"],
        parameters=[
            _param(
                "query", "Free text over name, brand, category, tags, description and colours.", _text(200)
            ),
            _param("category", "Category slug, name or id; includes its sub-categories.", _text(120)),
            _param("brand", "Brand name (case-insensitive).", _text(80)),
            _param("size", "A variant size, e.g. 10.5 or M.", _text(20)),
            _param("color", "A variant colour, e.g. black.", _text(40)),
            _param("minPrice", "Lowest price, a decimal such as 50 or 49.99.", _PRICE),
            _param("maxPrice", "Highest price (not below minPrice).", _PRICE),
            _param("inStock", "true: only products with a matching variant in stock.", OpenApiTypes.BOOL),
            _param(
                "sort",
                "Order of the results; recommended: the caller's own order (Bearer token), else relevance.",
                enum=list(SORTS),
            ),
            *limit_offset_parameters(),
        ],
        responses={
            200: ProductListOut,
            400: Error,
            422: error_response("`invalid_filter`: minPrice is above maxPrice."),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        search = search_kwargs_from_api(request.query_params)
        limit, offset = parse_limit_offset(request.query_params)
        results = SearchResults(**search)  # the same for every caller: cached until the catalog changes
        # One read of the listing version serves the search, its products' JSON and the correction, and
        # brings the search's cached ids with it (one round trip for both).
        with listing_version_pinned(results.cache_name):
            body = self._body(request, results, limit, offset)
        return HttpResponse(body, content_type="application/json")

    def _body(self, request: Request, results: SearchResults, limit: int, offset: int) -> str:
        """The ``ProductList`` JSON text: the products' JSON is spliced in already encoded."""
        search = results.terms()
        ordered: SearchResults | RankedProducts | QuerySet[Product] = results
        if search.get("sort") == "recommended" and request.user.is_authenticated:
            ordered = ranking.recommended_results(user=request.user, results=results)
        total = ordered.count()
        page: LazyProducts | QuerySet[Product] | list[Product] = (
            ordered[offset : offset + limit] if offset < total else []
        )
        # A cached search's page names its products by id: their JSON is cached too, stock read fresh.
        items = (
            product_json_by_id(page.ids())
            if isinstance(page, LazyProducts)
            else [dumps_json(item) for item in product_dicts(page)]
        )
        tail: dict[str, int | str] = {"total": total, "limit": limit, "offset": offset}
        corrected = search_correction_cached(search.get("query") or "")
        if corrected:
            tail["correctedQuery"] = corrected  # what was searched for, when a word was misspelt
        return '{"items":[' + ",".join(items) + "]," + dumps_json(tail)[1:]


class ProductDetailView(APIView):
    # Public; a valid Bearer token makes the read a view that feeds the caller's interests.
    authentication_classes = [PersonalAccessTokenAuthentication, OptionalJWTAuthentication]

    @extend_schema(
        operation_id="products_retrieve",
        tags=["catalog"],
        responses={200: ProductOut, 404: Error},
        extensions=response_links(
            200,
            AddToCart=link(
                "cart_item_add",
                body={
                    "productId": "$response.body#/id",
                    "variantId": "$response.body#/variants/0/id",
                    "quantity": 1,
                },
            ),
        ),
    )
    def get(self, request: Request, product_id: str) -> Response:
        product = product_get(product_id=product_id)
        # Deduplicated and written by memory's task after commit; a guest records nothing.
        product_viewed.send(sender=Product, user=request.user, product_id=product.pk)
        return Response(product_to_dict(product))
