"""The assistant's tool registry: every change the chat makes goes through one of these tools.

A tool is a function ``(ctx: ToolContext, **args) -> ToolResult`` registered with :func:`tool`, which
records its name, a description and a JSON Schema of its arguments (ready for LLM tool calling).
Each tool calls the apps' services and selectors with ``ctx.shopper`` -- the session's own shopper --
and nothing else: no tool takes a user id, so a message can never act on another shopper's data.
A ``DomainError`` from a service becomes a failed result carrying the service's own message.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.urls import reverse

from carts.models import Cart, CartLine
from carts.selectors import cart_for_shopper, cart_totals, cart_with_lines
from carts.services import (
    cart_add_item,
    cart_apply_discount,
    cart_change_option,
    cart_clear,
    cart_remove_line,
    cart_set_quantity,
)
from catalog.errors import InvalidSearch
from catalog.models import Product, Variant
from catalog.selectors import matching_option, product_queryset, product_search, size_sort_key
from catalog.serializers import product_to_dict
from commerce.accounts.shoppers import Shopper
from commerce.errors import DomainError
from commerce.money import money_str
from conversations.assistant.reply import FAILED, SKIPPED, SUCCEEDED, Link
from conversations.assistant.state import State
from memory.selectors import color_for_product, size_for_product
from orders.models import Order
from orders.selectors import (
    last_payment_method,
    last_shipping_address,
    order_get_for_user,
    order_latest_for_user,
    orders_for_user,
)
from orders.services import order_cancel, order_change_address, order_place, order_refund

MAX_PRODUCTS_SHOWN = 5


@dataclass
class ToolContext:
    """Who is acting (the session's shopper, never someone named in the text) and the dialogue state."""

    shopper: Shopper
    state: State


@dataclass
class ToolResult:
    status: str  # succeeded, failed, skipped, needs_confirmation
    detail: str  # the Action's detail: what happened, for the record
    text: str = ""  # what the shopper is told (defaults to the detail)
    products: list[dict[str, Any]] = field(default_factory=list)
    cart: Cart | None = None  # set when the tool changed or showed the cart
    links: list[Link] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return self.text or self.detail


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict[str, Any]
    confirm: bool
    func: Callable[..., ToolResult]
    # For confirm=True tools: checks and resolves the arguments before the question is asked, so
    # "cancel order X" for an order that is not the shopper's is "not found" at once, not after "yes".
    prepare: Callable[..., Preview | ToolResult] | None = None

    def __call__(self, ctx: ToolContext, **args: Any) -> ToolResult:
        return self.func(ctx, **args)

    def as_schema(self) -> dict[str, Any]:
        """The tool as an LLM function-calling declaration."""
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema}


@dataclass
class Preview:
    """What a confirm=True tool will run on "yes", and the question that says so."""

    args: dict[str, Any]
    question: str


class _Unresolved(Exception):
    """Raised by a tool (or a helper it calls) with the result to answer instead: not found, which
    one?, sign in first."""

    def __init__(self, result: ToolResult) -> None:
        self.result = result


def _answering(func: Callable[..., Any]) -> Callable[..., Any]:
    """A tool or preview as registered: an ``_Unresolved`` becomes its result and a service's
    ``DomainError`` a failed result with the service's own message."""

    @functools.wraps(func)
    def run(ctx: ToolContext, **args: Any) -> Any:
        try:
            return func(ctx, **args)
        except _Unresolved as exc:
            return exc.result
        except DomainError as exc:
            return _failed(exc)

    return run


REGISTRY: dict[str, Tool] = {}


def tool(
    name: str, description: str, input_schema: dict[str, Any], *, confirm: bool = False
) -> Callable[[Callable[..., ToolResult]], Callable[..., ToolResult]]:
    """Registers a tool. ``confirm=True``: the executor asks the shopper before running it."""

    def register(func: Callable[..., ToolResult]) -> Callable[..., ToolResult]:
        if name in REGISTRY:
            raise ValueError(f"Tool {name!r} is registered twice.")
        answering = _answering(func)
        REGISTRY[name] = Tool(name, description, input_schema, confirm, answering)
        return answering

    return register


def preview_for(
    name: str,
) -> Callable[[Callable[..., Preview | ToolResult]], Callable[..., Preview | ToolResult]]:
    """Registers the ``prepare`` step of the confirm=True tool ``name``."""

    def register(func: Callable[..., Preview | ToolResult]) -> Callable[..., Preview | ToolResult]:
        answering = _answering(func)
        REGISTRY[name] = replace(REGISTRY[name], prepare=answering)
        return answering

    return register


def get_tool(name: str) -> Tool:
    return REGISTRY[name]


def tool_schemas() -> list[dict[str, Any]]:
    return [t.as_schema() for t in REGISTRY.values()]


# --- shared argument schemas ---------------------------------------------------------------------

_PRODUCT_REF = {
    "ordinal": {"type": "integer", "description": "1-based position in the products last shown; -1 the last"},
    "reference": {"type": "string", "description": 'a pronoun: "it", "that", "them"'},
    "product": {"type": "string", "description": "a product phrase to search for"},
    "product_id": {"type": "integer", "description": "a product the assistant itself showed"},
    "brand": {"type": "string"},
    "category": {"type": "string"},
}
_LINE_REF = {
    "ordinal": {"type": "integer"},
    "reference": {"type": "string"},
    "product": {"type": "string", "description": "words matched against the cart's lines"},
    "brand": {"type": "string"},
    "category": {"type": "string"},
    "color": {"type": "string"},
    "size": {"type": "string"},
}


def _failed(exc: DomainError) -> ToolResult:
    return ToolResult(FAILED, exc.message)


def _loaded_cart(ctx: ToolContext) -> Cart | None:
    return cart_for_shopper(ctx.shopper)


def _show(ctx: ToolContext, products: list[Product], **options: Any) -> list[dict[str, Any]]:
    """Products to answer with; they become what "the second one" means (``options``: the size and
    colour searched with)."""
    ctx.state.show([p.pk for p in products], **options)
    return [product_to_dict(p) for p in products]


# --- search --------------------------------------------------------------------------------------


@tool(
    "search_products",
    "Search the catalog for in-stock products.",
    {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "brand": {"type": "string"},
            "size": {"type": "string"},
            "color": {"type": "string"},
            "min_price": {"type": "string", "description": "decimal"},
            "max_price": {"type": "string", "description": "decimal"},
            "sort": {"type": "string", "enum": ["relevance", "price_asc", "price_desc", "newest"]},
        },
    },
)
def search_products(ctx: ToolContext, query: str = "", **filters: Any) -> ToolResult:
    terms = {k: v for k, v in filters.items() if v not in (None, "")}
    try:
        found = list(product_search(query=query, in_stock_only=True, **terms)[:MAX_PRODUCTS_SHOWN])
    except InvalidSearch as exc:
        return _failed(exc)
    wanted = query or "products"
    if not found:
        return ToolResult(
            SUCCEEDED, f"No products found for {wanted}.", text=f"I couldn't find any {wanted} in stock."
        )
    products = _show(ctx, found, size=terms.get("size"), color=terms.get("color"))
    lines = [f"{i}. {p['name']} by {p['brand']} - ${p['price']}" for i, p in enumerate(products, start=1)]
    return ToolResult(
        SUCCEEDED,
        f"Found {len(found)} products for {wanted}.",
        text=f"Here are {len(found)} for {wanted}:\n" + "\n".join(lines),
        products=products,
    )


# --- adding ----------------------------------------------------------------------------------------


def _resolve_product(ctx: ToolContext, args: dict[str, Any]) -> Product:
    """The product a message means: one the assistant showed (by position or pronoun) or a search.

    Never another shopper's anything: products are public catalog rows.
    """
    product_id = args.get("product_id")
    ordinal = args.get("ordinal")
    if product_id is None and ordinal is not None:
        product_id = ctx.state.product_at(int(ordinal))
        if product_id is None:
            shown = len(ctx.state.last_product_ids)
            raise _Unresolved(
                ToolResult(
                    FAILED,
                    f"There is no product number {ordinal} in the last results ({shown} shown).",
                    suggestions=["Show me running shoes"],
                )
            )
    phrase = " ".join(str(args[k]) for k in ("brand", "product") if args.get(k)) or args.get("category") or ""
    if product_id is None and not phrase and ctx.state.last_product_ids:
        if len(ctx.state.last_product_ids) == 1:
            product_id = ctx.state.last_product_ids[0]
        else:
            ctx.state.pending_clarification = {
                "slot": "product",
                "tool": "add_to_cart",
                "args": _jsonable(args),
            }
            raise _Unresolved(
                ToolResult(
                    SKIPPED,
                    "Asked which of the products shown.",
                    text="Which one do you mean? Say the first one, the second one, and so on.",
                )
            )
    if product_id is not None:
        product = product_queryset().filter(pk=product_id).first()
        if product is None:
            raise _Unresolved(ToolResult(FAILED, "That product is no longer available."))
        return product
    if not phrase:
        raise _Unresolved(
            ToolResult(
                SKIPPED,
                "No product named.",
                text='Which product? Search first ("show me running shoes") '
                'and then say "add the first one".',
                suggestions=["Show me running shoes"],
            )
        )
    # the whole phrase first; then the category alone, since a stray word ("ad", a typo) in the
    # phrase would otherwise hide products the category names plainly
    queries = [str(phrase)]
    if args.get("category") and args["category"] != phrase:
        queries.append(str(args["category"]))
    found: list[Product] = []
    for query in queries:
        try:
            found = list(
                product_search(
                    query=query,
                    size=args.get("size") or None,
                    color=args.get("color") or None,
                    in_stock_only=True,
                )[:MAX_PRODUCTS_SHOWN]
            )
        except InvalidSearch as exc:
            raise _Unresolved(_failed(exc)) from exc
        if found:
            break
    if not found:
        raise _Unresolved(ToolResult(FAILED, f"I couldn't find {phrase} in stock."))
    ctx.state.show([p.pk for p in found], size=args.get("size"), color=args.get("color"))
    return found[0]


def _sizes(variants: list[Variant]) -> list[str]:
    return sorted({v.size for v in variants if v.size}, key=size_sort_key)


def _jsonable(args: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in args.items() if v is not None}


def _fill_from_memory(
    ctx: ToolContext, product: Product, matching: list[Variant], args: dict[str, Any]
) -> tuple[list[Variant], list[str]]:
    """Narrows ``matching`` by the signed-in shopper's remembered size, then colour, when the message
    left them open; returns the narrowed variants and what to tell the shopper ("I picked size M, as
    you prefer."). A remembered size that is sold out or not made is said, and the question is asked."""
    notes: list[str] = []
    user = ctx.shopper.user
    if user is None:
        return matching, notes
    if not args.get("size") and len({v.size for v in matching}) > 1:
        size, reason = size_for_product(user=user, product=product)
        in_size = [v for v in matching if size and v.size.lower() == size.lower() and v.stock > 0]
        if in_size:
            matching = in_size
            notes.append(reason)
        elif reason:
            notes.append(
                f"Your usual size {size} of {product.name} is sold out right now." if size else reason
            )
            return matching, notes
    if not args.get("color") and len({v.color for v in matching}) > 1:
        sizes = {v.size for v in matching}
        color, reason = color_for_product(
            user=user, product=product, size=next(iter(sizes)) if len(sizes) == 1 else None
        )
        in_color = [v for v in matching if color and v.color.lower() == color.lower() and v.stock > 0]
        if in_color:
            matching = in_color
            notes.append(reason)
    return matching, notes


def _pinned(matching: list[Variant], args: dict[str, Any]) -> dict[str, str]:
    """A size the memory filled in, kept for the colour question's answer."""
    sizes = {v.size for v in matching}
    return {"size": next(iter(sizes))} if len(sizes) == 1 and not args.get("size") else {}


def _resolve_variant(ctx: ToolContext, product: Product, args: dict[str, Any]) -> tuple[Variant, list[str]]:
    """The one variant the shopper pinned down, never a guess: a size/colour the message left open is
    taken from the shopper's memory (with the words that say so) or asked for (size, then colour)."""
    variants = list(product.variants.all())
    size, color = args.get("size"), args.get("color")
    # the product's own spelling: "neon" is its "neon yellow"
    size_option = matching_option((v.size for v in variants), str(size)) if size else None
    color_option = matching_option((v.color for v in variants), str(color)) if color else None
    matching = [
        v for v in variants if (not size or v.size == size_option) and (not color or v.color == color_option)
    ]
    if not matching:
        in_stock = [v for v in variants if v.stock > 0]
        wanted = " ".join(x for x in (f"size {size}" if size else "", str(color or "")) if x)
        raise _Unresolved(
            ToolResult(
                FAILED,
                f"{product.name} doesn't come in {wanted}. "
                f"In stock: sizes {', '.join(_sizes(in_stock)) or 'none'}.",
            )
        )
    if len(matching) == 1:
        return matching[0], []
    matching, notes = _fill_from_memory(ctx, product, matching, args)
    if len(matching) == 1:
        return matching[0], notes
    in_stock = [v for v in matching if v.stock > 0]
    if not in_stock:
        raise _Unresolved(ToolResult(FAILED, f"{product.name} is sold out in that option."))
    slot = "size" if len({v.size for v in matching}) > 1 else "color"
    options = _sizes(in_stock) if slot == "size" else sorted({v.color for v in in_stock})
    ctx.state.pending_clarification = {
        "slot": slot,
        "tool": "add_to_cart",
        "args": _jsonable({**args, **_pinned(matching, args), "product_id": product.pk, "ordinal": None}),
    }
    ctx.state.last_product_ids = ctx.state.last_product_ids or [product.pk]
    return_text = " ".join(
        [*notes, f"Which {slot} of {product.name} would you like? In stock: {', '.join(options)}."]
    )
    raise _Unresolved(
        ToolResult(
            SKIPPED,
            f"Asked which {slot} of {product.name}.",
            text=return_text,
            suggestions=[f"{slot.capitalize()} {o}" for o in options[:4]],
        )
    )


@tool(
    "add_to_cart",
    "Add a product the shopper named or was shown to the cart; asks for size/colour when not pinned down.",
    {
        "type": "object",
        "properties": {
            **_PRODUCT_REF,
            "size": {"type": "string"},
            "color": {"type": "string"},
            "quantity": {"type": "integer", "minimum": 1, "default": 1},
        },
    },
)
def add_to_cart(ctx: ToolContext, quantity: int | None = None, **args: Any) -> ToolResult:
    quantity = int(quantity or 1)
    product = _resolve_product(ctx, args)
    # "running shoes in size 10", then "add the second one": size 10, as searched (the message wins)
    args = {**ctx.state.options_for(product.pk), **{k: v for k, v in args.items() if v not in (None, "")}}
    variant, notes = _resolve_variant(ctx, product, args)
    cart = cart_add_item(shopper=ctx.shopper, variant_id=variant.pk, quantity=quantity)
    line = CartLine.objects.get(cart=cart, variant=variant)
    ctx.state.last_cart_line_id = line.pk
    label = _variant_label(variant)
    return ToolResult(
        SUCCEEDED,
        f"Added {quantity} x {label} to the cart.",
        text=" ".join([*notes, f"Added {quantity} x {label} to your cart (now {line.quantity})."]),
        cart=cart,
        suggestions=["Show my cart", "Checkout"],
    )


def _items(count: int) -> str:
    return f"{count} item{'' if count == 1 else 's'}"


def _variant_label(variant: Variant) -> str:
    bits = [b for b in (f"size {variant.size}" if variant.size else "", variant.color) if b]
    return f"{variant.product.name}" + (f" ({', '.join(bits)})" if bits else "")


# --- cart lines ----------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 1}


def _lines(ctx: ToolContext) -> list[CartLine]:
    cart = _loaded_cart(ctx)
    return list(cart.lines.all()) if cart is not None else []


def _resolve_line(ctx: ToolContext, args: dict[str, Any]) -> CartLine:
    """The cart line a message means: by words matched against the lines, else the last touched one."""
    lines = _lines(ctx)
    if not lines:
        raise _Unresolved(ToolResult(FAILED, "Your cart is empty."))
    phrase = " ".join(str(args[k]) for k in ("brand", "product", "category", "color") if args.get(k))
    if phrase:
        wanted = _words(phrase)
        scored = []
        for line in lines:
            p = line.variant.product
            have = _words(
                " ".join([p.name, p.brand, p.category.name, line.variant.color, " ".join(p.tags or [])])
            )
            score = len(wanted & have)
            if args.get("size") and line.variant.size.lower() == str(args["size"]).lower():
                score += 1
            scored.append((score, line))
        best = max(s for s, _ in scored)
        top = [line for s, line in scored if s == best]
        if best == 0:
            raise _Unresolved(ToolResult(FAILED, f"There is no {phrase} in your cart."))
        if len(top) > 1:
            raise _Unresolved(
                ToolResult(
                    SKIPPED,
                    f"Several cart lines match {phrase}.",
                    text=f"Several items in your cart match {phrase}: "
                    + "; ".join(_variant_label(x.variant) for x in top)
                    + ". Which one?",
                )
            )
        return top[0]
    if args.get("ordinal"):
        index = int(args["ordinal"])
        if 1 <= index <= len(lines) or index == -1:
            return lines[index - 1] if index > 0 else lines[-1]
    by_id = {line.pk: line for line in lines}
    if ctx.state.last_cart_line_id in by_id:
        return by_id[ctx.state.last_cart_line_id]
    if len(lines) == 1:
        return lines[0]
    raise _Unresolved(
        ToolResult(
            SKIPPED,
            "Not clear which cart line.",
            text="Which item in your cart? For example: make the hoodie 2.",
            suggestions=["Show my cart"],
        )
    )


@tool(
    "update_cart_quantity",
    "Set the quantity of a cart line (the one named, else the last one touched); 0 removes it.",
    {
        "type": "object",
        "properties": {**_LINE_REF, "quantity": {"type": "integer", "minimum": 0}},
        "required": ["quantity"],
    },
)
def update_cart_quantity(ctx: ToolContext, quantity: int, **args: Any) -> ToolResult:
    line = _resolve_line(ctx, args)
    cart = cart_set_quantity(shopper=ctx.shopper, line_id=line.pk, quantity=int(quantity))
    ctx.state.last_cart_line_id = line.pk if quantity else None
    label = _variant_label(line.variant)
    return ToolResult(SUCCEEDED, f"Set {label} to {quantity}.", cart=cart, suggestions=["Show my cart"])


@tool(
    "change_cart_option",
    "Move a cart line (the one named, else the last one touched) to another size and/or colour of the "
    "same product, keeping its quantity.",
    {
        "type": "object",
        "properties": {
            **{k: v for k, v in _LINE_REF.items() if k not in ("size", "color")},
            "to_size": {"type": "string", "description": "the new size (at least one of to_size, to_color)"},
            "to_color": {"type": "string", "description": "the new colour"},
        },
    },
)
def change_cart_option(
    ctx: ToolContext, to_size: str | None = None, to_color: str | None = None, **args: Any
) -> ToolResult:
    line = _resolve_line(ctx, args)
    before = _variant_label(line.variant)
    cart, changed = cart_change_option(shopper=ctx.shopper, line_id=line.pk, size=to_size, color=to_color)
    ctx.state.last_cart_line_id = changed.pk
    if changed.variant_id == line.variant_id:
        return ToolResult(SKIPPED, f"{before} is already that option.", text=f"It's already {before}.")
    merged = f" (now {changed.quantity} in your cart)" if changed.pk != line.pk else ""
    return ToolResult(
        SUCCEEDED,
        f"Changed {before} to {_variant_label(changed.variant)}{merged}.",
        cart=cart,
        suggestions=["Show my cart"],
    )


@tool(
    "adjust_cart_quantity",
    "Change the quantity of a cart line by a delta (+1 'one more', -1 'remove one').",
    {
        "type": "object",
        "properties": {
            **_LINE_REF,
            "delta": {"type": "integer"},
            "factor": {"type": "integer", "description": "multiply instead ('double it')"},
        },
    },
)
def adjust_cart_quantity(
    ctx: ToolContext, delta: int = 0, factor: int | None = None, **args: Any
) -> ToolResult:
    line = _resolve_line(ctx, args)
    quantity = line.quantity * int(factor) if factor else max(line.quantity + int(delta), 0)
    cart = cart_set_quantity(shopper=ctx.shopper, line_id=line.pk, quantity=quantity)
    ctx.state.last_cart_line_id = line.pk if quantity else None
    label = _variant_label(line.variant)
    detail = f"{label} is now {quantity}." if quantity else f"Removed {label}."
    return ToolResult(SUCCEEDED, detail, cart=cart, suggestions=["Show my cart"])


@tool(
    "remove_from_cart",
    "Remove a line from the cart (named by words, position or 'it').",
    {"type": "object", "properties": _LINE_REF},
)
def remove_from_cart(ctx: ToolContext, **args: Any) -> ToolResult:
    line = _resolve_line(ctx, args)
    cart = cart_remove_line(shopper=ctx.shopper, line_id=line.pk)
    if ctx.state.last_cart_line_id == line.pk:
        ctx.state.last_cart_line_id = None
    return ToolResult(SUCCEEDED, f"Removed {_variant_label(line.variant)} from the cart.", cart=cart)


@tool(
    "clear_cart",
    "Empty the cart (lines and discount code).",
    {"type": "object", "properties": {}},
    confirm=True,
)
def clear_cart(ctx: ToolContext) -> ToolResult:
    cart = _loaded_cart(ctx)
    if cart is None or not cart.lines.exists():
        return ToolResult(SKIPPED, "The cart was already empty.", text="Your cart is already empty.")
    cart_clear(cart=cart)
    ctx.state.last_cart_line_id = None
    return ToolResult(SUCCEEDED, "Emptied the cart.", text="Done: your cart is empty.", cart=cart)


def cart_summary(cart: Cart | None) -> str:
    """The cart in words: one line per item, then the totals (from ``cart_totals`` only)."""
    if cart is None:
        return "Your cart is empty."
    cart = cart_with_lines().get(pk=cart.pk)
    totals = cart_totals(cart)
    if not totals.lines:
        return "Your cart is empty."
    rows = [
        f"- {lt.line.quantity} x {_variant_label(lt.line.variant)}: ${money_str(lt.line_total)}"
        for lt in totals.lines
    ]
    text = "Your cart:\n" + "\n".join(rows)
    if cart.discount is not None:
        text += f"\nCode {cart.discount.code}: -${money_str(totals.discount)}"
    return text + f"\nTotal: ${money_str(totals.total)}"


@tool("view_cart", "Show the cart's lines and totals.", {"type": "object", "properties": {}})
def view_cart(ctx: ToolContext) -> ToolResult:
    cart = _loaded_cart(ctx)
    count = sum(line.quantity for line in cart.lines.all()) if cart is not None else 0
    return ToolResult(
        SUCCEEDED,
        f"Showed the cart ({_items(count)}).",
        text=cart_summary(cart),
        cart=cart,
        links=[Link("Open your cart", "/cart/")],
        suggestions=["Checkout"] if count else ["Show me running shoes"],
    )


@tool(
    "apply_discount",
    "Put a discount code on the cart.",
    {"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]},
)
def apply_discount(ctx: ToolContext, code: str = "") -> ToolResult:
    if not code:
        return ToolResult(SKIPPED, "No code given.", text='Which code? Say for example "apply code SAVE10".')
    cart = cart_apply_discount(shopper=ctx.shopper, code=code)
    return ToolResult(SUCCEEDED, f"Applied code {code.upper()}.", cart=cart, suggestions=["Show my cart"])


def sign_in_link(next_url: str) -> Link:
    return Link("Sign in", f"{reverse('accounts:login')}?next={next_url}")


# --- checkout and orders (signed-in shoppers only; always the session's own orders) ------------------


def _order_line(order: Order) -> str:
    text = f"Order {order.number} is {order.get_status_display().lower()} (total ${money_str(order.total)})"
    if order.tracking_number:
        text += f", tracking number {order.tracking_number}"
    return text + "."


def _signed_in(ctx: ToolContext, what: str, next_url: str) -> None:
    if ctx.shopper.user is None:
        raise _Unresolved(
            ToolResult(
                SKIPPED,
                f"{what} needs a signed-in account.",
                text=f"{what} needs you to be signed in. Sign in and ask me again; "
                "your cart stays with you when you do.",
                links=[sign_in_link(next_url)],
            )
        )


def _resolve_order(ctx: ToolContext, what: str, order_id: str | None = None) -> Order:
    """The order named by number, else the one last discussed, else the latest: the shopper's own only."""
    _signed_in(ctx, what, "/orders/")
    user = ctx.shopper.user
    number = order_id or ctx.state.last_order_number
    order = order_get_for_user(user=user, order_id=number) if number else order_latest_for_user(user)
    if order is None:
        raise _Unresolved(ToolResult(FAILED, "You have no orders yet.", links=[Link("Shop", "/products/")]))
    ctx.state.last_order_number = order.number
    return order


@tool(
    "place_order",
    "Place the cart as an order with the shopper's last shipping address and payment method.",
    {"type": "object", "properties": {"idempotency_key": {"type": "string"}}},
    confirm=True,
)
def place_order(ctx: ToolContext, idempotency_key: str | None = None) -> ToolResult:
    _signed_in(ctx, "Checking out", "/checkout/")
    user = ctx.shopper.user
    address, payment = last_shipping_address(user), last_payment_method(user)
    if address is None or payment is None:
        return _no_details_on_file()
    order, _created = order_place(
        user=user,
        shipping_address=address,
        payment_method=payment,
        idempotency_key=idempotency_key or uuid.uuid4().hex,
    )
    ctx.state.last_order_number = order.number
    ctx.state.last_cart_line_id = None
    return ToolResult(
        SUCCEEDED,
        f"Placed order {order.number} for ${money_str(order.total)}.",
        text=f"Done: order {order.number} is placed, total ${money_str(order.total)}. "
        f"It ships to {address.get('line1', '')}, {address.get('city', '')}.",
        cart=cart_for_shopper(ctx.shopper),
        links=[Link("See your order", f"/orders/{order.number}/")],
        suggestions=["Where is my order?"],
    )


def _no_details_on_file() -> ToolResult:
    return ToolResult(
        SKIPPED,
        "No shipping address and payment method on file.",
        text="I don't have a shipping address and payment method on file for you yet, so please "
        "check out on the checkout page this time: /checkout/",
        links=[Link("Go to checkout", "/checkout/")],
    )


@preview_for("place_order")
def _preview_place_order(ctx: ToolContext, **args: Any) -> Preview | ToolResult:
    _signed_in(ctx, "Checking out", "/checkout/")
    user = ctx.shopper.user
    cart = cart_for_shopper(ctx.shopper)
    totals = cart_totals(cart)
    if cart is None or not totals.lines:
        return ToolResult(
            SKIPPED, "The cart is empty.", text="Your cart is empty, so there is nothing to check out."
        )
    address, payment = last_shipping_address(user), last_payment_method(user)
    if address is None or payment is None:
        return _no_details_on_file()
    # a fresh key per question: one "yes" makes one order, even if it reaches us twice
    return Preview(
        {"idempotency_key": uuid.uuid4().hex},
        f"Your total is ${money_str(totals.total)} ({_items(sum(lt.line.quantity for lt in totals.lines))}), "
        f"shipping to {address.get('line1', '')}, {address.get('city', '')}, paid with your saved "
        f"{payment.get('type', 'card')}. Shall I place the order? (yes / no)",
    )


@tool(
    "order_status",
    "The status of one of the shopper's orders (named, last discussed, or latest).",
    {"type": "object", "properties": {"order_id": {"type": "string"}}},
)
def order_status(ctx: ToolContext, order_id: str | None = None) -> ToolResult:
    order = _resolve_order(ctx, "Looking up orders", order_id)
    return ToolResult(SUCCEEDED, f"Order {order.number} is {order.status}.", text=_order_line(order))


@tool(
    "orders_status",
    "The status of several of the shopper's orders (the ones named, else the five latest).",
    {"type": "object", "properties": {"order_ids": {"type": "array", "items": {"type": "string"}}}},
)
def orders_status(ctx: ToolContext, order_ids: list[str] | None = None) -> ToolResult:
    _signed_in(ctx, "Looking up orders", "/orders/")
    user = ctx.shopper.user
    if not order_ids:
        orders = list(orders_for_user(user)[:5])
        if not orders:
            return ToolResult(SUCCEEDED, "No orders.", text="You have no orders yet.")
        return ToolResult(
            SUCCEEDED, f"Listed {len(orders)} orders.", text="\n".join(_order_line(o) for o in orders)
        )
    rows = []
    for number in order_ids:
        try:
            rows.append(_order_line(order_get_for_user(user=user, order_id=number)))
        except DomainError as exc:
            rows.append(exc.message)
    return ToolResult(SUCCEEDED, f"Looked up {len(order_ids)} orders.", text="\n".join(rows))


@tool(
    "cancel_order",
    "Cancel one of the shopper's orders before it ships (stock returned, payment refunded).",
    {"type": "object", "properties": {"order_id": {"type": "string"}}},
    confirm=True,
)
def cancel_order(ctx: ToolContext, order_id: str | None = None) -> ToolResult:
    order = _resolve_order(ctx, "Cancelling an order", order_id)
    order = order_cancel(order=order, actor=ctx.shopper.user, reason="Cancelled by the shopper in chat")
    return ToolResult(
        SUCCEEDED,
        f"Cancelled order {order.number}.",
        text=f"Order {order.number} is cancelled; the payment is refunded.",
    )


@preview_for("cancel_order")
def _preview_cancel(ctx: ToolContext, order_id: str | None = None) -> Preview | ToolResult:
    order = _resolve_order(ctx, "Cancelling an order", order_id)
    if not order.can_cancel():
        return ToolResult(FAILED, f"Order {order.number} is {order.status} and can no longer be cancelled.")
    return Preview(
        {"order_id": order.number},
        f"Cancel order {order.number} (${money_str(order.total)})? (yes / no)",
    )


@tool(
    "request_refund",
    "Refund one of the shopper's delivered orders within the return window.",
    {"type": "object", "properties": {"order_id": {"type": "string"}}},
    confirm=True,
)
def request_refund(ctx: ToolContext, order_id: str | None = None) -> ToolResult:
    order = _resolve_order(ctx, "Refunds", order_id)
    order = order_refund(order=order, actor=ctx.shopper.user, reason="Requested by the shopper in chat")
    return ToolResult(SUCCEEDED, f"Refunded order {order.number}.", text=f"Order {order.number} is refunded.")


@preview_for("request_refund")
def _preview_refund(ctx: ToolContext, order_id: str | None = None) -> Preview | ToolResult:
    order = _resolve_order(ctx, "Refunds", order_id)
    if not order.can_refund():
        return ToolResult(
            FAILED,
            f"Order {order.number} is {order.status} and cannot be refunded "
            "(refunds are for delivered orders within the return window).",
        )
    return Preview({"order_id": order.number}, f"Refund order {order.number} in full? (yes / no)")


@tool(
    "change_order_address",
    "Change the shipping address of one of the shopper's orders before it ships.",
    {
        "type": "object",
        "properties": {"order_id": {"type": "string"}, "address": {"type": "object"}},
        "required": ["address"],
    },
)
def change_order_address(
    ctx: ToolContext, address: dict[str, Any] | None = None, order_id: str | None = None
) -> ToolResult:
    order = _resolve_order(ctx, "Changing an order's address", order_id)
    if not address:
        return ToolResult(
            SKIPPED,
            "No address given.",
            text='Which address? For example: "ship it to 500 Main St, Austin, TX 78701".',
        )
    # the recipient's name is kept from the order: the message gives only the street address
    new = {"name": (order.shipping_address or {}).get("name") or ctx.shopper.user.get_full_name(), **address}
    order = order_change_address(order=order, actor=ctx.shopper.user, address=new)
    return ToolResult(
        SUCCEEDED,
        f"Order {order.number} now ships to {new.get('line1', '')}, {new.get('city', '')}.",
    )


# The memory tools register themselves in the same registry (kept in their own module for size).
from conversations.assistant import memory_tools  # noqa: E402, F401
