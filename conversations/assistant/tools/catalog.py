"""Catalog tools: search the catalog and look at one product (public rows; any shopper may read them)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from catalog.errors import InvalidSearch
from catalog.models import Product
from catalog.selectors import SearchResults, listing_version_pinned, product_active, search_correction
from catalog.serializers import product_dicts_cached
from conversations.assistant.reply import FAILED, SKIPPED, SUCCEEDED, Link
from conversations.assistant.tools.registry import (
    MAX_PRODUCTS_SHOWN,
    ToolContext,
    ToolResult,
    Unresolved,
    given,
    object_schema,
    show,
    show_dicts,
    tool,
)

SORTS = ["relevance", "price_asc", "price_desc", "newest"]


def describe_search(terms: dict[str, Any]) -> str:
    """The search in words ("running shoes by Stride in size 10 under $150")."""
    parts = [terms.get("query") or "products"]
    if terms.get("brand"):
        parts.append(f"by {terms['brand']}")
    if terms.get("color"):
        parts.append(f"in {terms['color']}")
    if terms.get("size"):
        parts.append(f"in size {terms['size']}")
    if terms.get("min_price") is not None and terms.get("max_price") is not None:
        parts.append(f"between ${terms['min_price']} and ${terms['max_price']}")
    elif terms.get("max_price") is not None:
        parts.append(f"under ${terms['max_price']}")
    elif terms.get("min_price") is not None:
        parts.append(f"over ${terms['min_price']}")
    return " ".join(str(p) for p in parts)


@tool(
    "search_products",
    "Search the store's catalog for products in stock. Use it whenever the shopper wants to find, browse "
    "or compare products; the products found become what 'the first one', 'the second one' and 'it' "
    "refer to in later messages.",
    object_schema(
        {
            "query": {"type": "string", "description": "words to search for, e.g. 'running shoes'"},
            "category": {
                "type": "string",
                "description": "the kind of product ('running shoes', 'hoodies'): searched alone when the "
                "query's words find nothing",
            },
            "brand": {"type": "string"},
            "size": {"type": "string", "description": "a size as the catalog writes it: 'M', '10', '32'"},
            "color": {"type": "string"},
            "min_price": {"type": "string", "description": "lowest price, a decimal such as '40'"},
            "max_price": {"type": "string", "description": "highest price, a decimal such as '150'"},
            "sort": {"type": "string", "enum": SORTS},
        }
    ),
    intent="product_search",
)
def search_products(
    ctx: ToolContext,
    query: str = "",
    category: str | None = None,
    brand: str | None = None,
    size: str | None = None,
    color: str | None = None,
    min_price: str | None = None,
    max_price: str | None = None,
    sort: str | None = None,
) -> ToolResult:
    terms = given(
        query=query, brand=brand, size=size, color=color, min_price=min_price, max_price=max_price, sort=sort
    )
    terms.setdefault("query", "")
    try:
        # The same cached search as the listing and the API: the matches' ids per catalog version, their
        # JSON cached too (stock read fresh).
        results = SearchResults(**terms, in_stock_only=True)
    except InvalidSearch as exc:
        text = f"I couldn't search for that: {exc.message}"
        return ToolResult(FAILED, exc.message, text=text, suggestions=["Show me running shoes"])
    # One catalog version for the whole answer (its ids, its products' JSON and the spelling check),
    # read with the search's cached ids in one round trip: two cache round trips where there were three.
    with listing_version_pinned(results.cache_name):
        found = product_dicts_cached(results[:MAX_PRODUCTS_SHOWN].ids())
        if not found and category and category != terms["query"]:
            # a stray word ("shw", a filler) can hide what the kind of product names plainly
            terms["query"] = category
            again = SearchResults(**terms, in_stock_only=True)  # the terms were found valid above
            found = product_dicts_cached(again[:MAX_PRODUCTS_SHOWN].ids())
        corrected = search_correction(terms["query"])
    wanted = describe_search({**terms, "query": corrected or terms["query"]})
    if not found:
        return ToolResult(
            SUCCEEDED,
            f"No products found for {wanted}.",
            text=f"I couldn't find any {wanted} in stock. Try fewer words, another size or a higher price.",
            suggestions=["Show me hoodies", "Show me running shoes"],
            links=[Link("Browse all products", reverse("catalog:product-list"))],
        )
    products = show_dicts(ctx, found, size=terms.get("size"), color=terms.get("color"))
    lines = [
        f"{i}. {p['name']} by {p['brand']}" + (f" - ${p['price']}" if p["price"] else "")
        for i, p in enumerate(products, start=1)
    ]
    return ToolResult(
        SUCCEEDED,
        f"Found {len(found)} products for {wanted}.",
        text=(f"Showing results for {corrected}. " if corrected else "")
        + f"Here {'is' if len(found) == 1 else 'are'} {len(found)} for {wanted}:\n"
        + "\n".join(lines),
        products=products,
        suggestions=["Add the first one to my cart", "Show the cheapest first", "How do the sizes fit?"],
    )


def product_shown(ctx: ToolContext, *, product_id: int | None, ordinal: int | None) -> Product:
    """A product by id, or by its position among the products last shown; not found is said."""
    if product_id is None and ordinal is not None:
        product_id = ctx.state.product_at(int(ordinal))
        if product_id is None:
            shown = len(ctx.state.last_product_ids)
            raise Unresolved(
                ToolResult(
                    FAILED,
                    f"There is no product number {ordinal} in the last results ({shown} shown).",
                    suggestions=["Show me running shoes"],
                )
            )
    if product_id is None:
        raise Unresolved(
            ToolResult(SKIPPED, "No product named.", text="Which product? Search first, then pick one.")
        )
    product = product_active(int(product_id))
    if product is None:
        raise Unresolved(ToolResult(FAILED, "That product is no longer available."))
    return product


@tool(
    "product_details",
    "Describe one product: its description, price, and which sizes and colours are in stock. Name it "
    "by product_id (from a search result) or by ordinal (its position among the products last shown).",
    object_schema(
        {
            "product_id": {"type": "integer", "description": "the product's id from a search result"},
            "ordinal": {
                "type": "integer",
                "description": "1-based position in the products last shown; -1 the last",
            },
        }
    ),
)
def product_details(
    ctx: ToolContext, product_id: int | None = None, ordinal: int | None = None
) -> ToolResult:
    if product_id is None and ordinal is None and len(ctx.state.last_product_ids) == 1:
        product_id = ctx.state.last_product_ids[0]
    product = product_shown(ctx, product_id=product_id, ordinal=ordinal)
    shown = show(ctx, [product])[0]
    in_stock = [v for v in shown["variants"] if v["inStock"]]
    options = ", ".join(" ".join(x for x in (v["size"], v["color"]) if x) or v["sku"] for v in in_stock[:12])
    text = f"{product.name} by {product.brand}, from ${shown['price']}."
    if product.description:
        text += f" {product.description}"
    text += f" In stock: {options}." if in_stock else " It is sold out right now."
    return ToolResult(
        SUCCEEDED,
        f"Described {product.name}.",
        text=text,
        products=[shown],
        suggestions=["Add it to my cart"] if in_stock else ["Show me something similar"],
    )
