"""Cart tools: add (resolving "the second one", a size and colour), change, remove, clear, show, discount.

Every tool acts on the session's own cart (``ctx.shopper``) through the carts app's services.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from carts.errors import CartLineNotFound
from carts.models import Cart, CartLine
from carts.selectors import cart_for_shopper, cart_totals
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
from catalog.selectors import matching_option, product_search, size_sort_key
from commerce.money import money_str
from conversations.assistant.reply import FAILED, SKIPPED, SUCCEEDED, Link
from conversations.assistant.tools.catalog import product_shown
from conversations.assistant.tools.registry import (
    MAX_PRODUCTS_SHOWN,
    ToolContext,
    ToolResult,
    Unresolved,
    failed,
    given,
    items,
    jsonable,
    object_schema,
    tool,
)
from memory.selectors import color_for_product, size_for_product

_PRODUCT_REF = {
    "ordinal": {"type": "integer", "description": "1-based position in the products last shown; -1 the last"},
    "reference": {"type": "string", "description": 'a pronoun the shopper used: "it", "that", "them"'},
    "product": {
        "type": "string",
        "description": "words naming a product, searched for when no ordinal or id",
    },
    "product_id": {"type": "integer", "description": "a product id from a search result"},
    "brand": {"type": "string"},
    "category": {"type": "string"},
}
_LINE_REF = {
    "ordinal": {"type": "integer", "description": "1-based position of the line in the cart"},
    "reference": {"type": "string", "description": 'a pronoun the shopper used: "it", "that"'},
    "product": {"type": "string", "description": "words matched against the cart's lines"},
    "brand": {"type": "string"},
    "category": {"type": "string"},
    "color": {"type": "string"},
    "size": {"type": "string"},
}


def _loaded_cart(ctx: ToolContext) -> Cart | None:
    return cart_for_shopper(ctx.shopper)


# --- adding ----------------------------------------------------------------------------------------


def _resolve_product(ctx: ToolContext, args: dict[str, Any]) -> Product:
    """The product a message means: one the assistant showed (by position or pronoun) or a search.

    Never another shopper's anything: products are public catalog rows.
    """
    product_id = args.get("product_id")
    if product_id is None and args.get("ordinal") is not None:
        return product_shown(ctx, product_id=None, ordinal=args["ordinal"])
    phrase = " ".join(str(args[k]) for k in ("brand", "product") if args.get(k)) or args.get("category") or ""
    if product_id is None and not phrase and ctx.state.last_product_ids:
        if len(ctx.state.last_product_ids) == 1:
            product_id = ctx.state.last_product_ids[0]
        else:
            ctx.state.pending_clarification = {
                "slot": "product",
                "tool": "add_to_cart",
                "args": jsonable(args),
            }
            raise Unresolved(
                ToolResult(
                    SKIPPED,
                    "Asked which of the products shown.",
                    text="Which one do you mean? Say the first one, the second one, and so on.",
                )
            )
    if product_id is not None:
        return product_shown(ctx, product_id=product_id, ordinal=None)
    if not phrase:
        raise Unresolved(
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
            raise Unresolved(failed(exc)) from exc
        if found:
            break
    if not found:
        raise Unresolved(ToolResult(FAILED, f"I couldn't find {phrase} in stock."))
    ctx.state.show([p.pk for p in found], size=args.get("size"), color=args.get("color"))
    return found[0]


def _sizes(variants: list[Variant]) -> list[str]:
    return sorted({v.size for v in variants if v.size}, key=size_sort_key)


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
        raise Unresolved(
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
        raise Unresolved(ToolResult(FAILED, f"{product.name} is sold out in that option."))
    slot = "size" if len({v.size for v in matching}) > 1 else "color"
    options = _sizes(in_stock) if slot == "size" else sorted({v.color for v in in_stock})
    ctx.state.pending_clarification = {
        "slot": slot,
        "tool": "add_to_cart",
        "args": jsonable({**args, **_pinned(matching, args), "product_id": product.pk, "ordinal": None}),
    }
    ctx.state.last_product_ids = ctx.state.last_product_ids or [product.pk]
    return_text = " ".join(
        [*notes, f"Which {slot} of {product.name} would you like? In stock: {', '.join(options)}."]
    )
    raise Unresolved(
        ToolResult(
            SKIPPED,
            f"Asked which {slot} of {product.name}.",
            text=return_text,
            suggestions=[f"{slot.capitalize()} {o}" for o in options[:4]],
        )
    )


@tool(
    "add_to_cart",
    "Add a product to the cart. Name it by product_id (from a search result), by ordinal (its position "
    "among the products last shown) or by words (product, brand, category). When the size or colour is "
    "not pinned down the shopper is asked; never guess one.",
    object_schema(
        {
            **_PRODUCT_REF,
            "size": {"type": "string"},
            "color": {"type": "string"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 50},
        }
    ),
)
def add_to_cart(
    ctx: ToolContext,
    ordinal: int | None = None,
    reference: str | None = None,
    product: str | None = None,
    product_id: int | None = None,
    brand: str | None = None,
    category: str | None = None,
    size: str | None = None,
    color: str | None = None,
    quantity: int | None = None,
) -> ToolResult:
    args = given(
        ordinal=ordinal,
        reference=reference,
        product=product,
        product_id=product_id,
        brand=brand,
        category=category,
        size=size,
        color=color,
    )
    quantity = int(quantity or 1)
    found = _resolve_product(ctx, args)
    # "running shoes in size 10", then "add the second one": size 10, as searched (the message wins)
    args = {**ctx.state.options_for(found.pk), **args}
    variant, notes = _resolve_variant(ctx, found, args)
    # the cart as it now stands, with its lines as read under its lock: the line added and the reply's
    # cart both come from it, with no read after the write
    cart = cart_add_item(shopper=ctx.shopper, variant_id=variant.pk, quantity=quantity, variant=variant)
    line = next(x for x in cart.lines.all() if x.variant_id == variant.pk)
    ctx.state.last_cart_line_id = line.pk
    label = variant.label
    return ToolResult(
        SUCCEEDED,
        f"Added {quantity} x {label} to the cart.",
        text=" ".join([*notes, f"Added {quantity} x {label} to your cart (now {line.quantity})."]),
        cart=cart,
        cart_loaded=True,
        suggestions=["Show my cart", "Checkout"],
    )


# --- cart lines ----------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 1}


def _lines(ctx: ToolContext) -> list[CartLine]:
    cart = _loaded_cart(ctx)
    return list(cart.lines.all()) if cart is not None else []


# The words _resolve_line matches against a cart's lines (a size only weighs among lines they match).
_LINE_WORDS = ("brand", "product", "category", "color")


def _names_a_line(args: dict[str, Any]) -> bool:
    """Whether the words pick a cart line themselves (by what it is or its position) rather than meaning
    the last one touched, as :func:`_resolve_line` reads them."""
    return any(args.get(k) for k in (*_LINE_WORDS, "ordinal"))


def _resolve_line(ctx: ToolContext, args: dict[str, Any]) -> CartLine:
    """The cart line a message means: by words matched against the lines, else the last touched one."""
    lines = _lines(ctx)
    if not lines:
        raise Unresolved(ToolResult(FAILED, "Your cart is empty."))
    phrase = " ".join(str(args[k]) for k in _LINE_WORDS if args.get(k))
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
            raise Unresolved(ToolResult(FAILED, f"There is no {phrase} in your cart."))
        if len(top) > 1:
            raise Unresolved(
                ToolResult(
                    SKIPPED,
                    f"Several cart lines match {phrase}.",
                    text=f"Several items in your cart match {phrase}: "
                    + "; ".join(x.variant.label for x in top)
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
    raise Unresolved(
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
    object_schema({**_LINE_REF, "quantity": {"type": "integer", "minimum": 0, "maximum": 50}}, ("quantity",)),
    intent="update_cart",
)
def update_cart_quantity(
    ctx: ToolContext,
    quantity: int,
    ordinal: int | None = None,
    reference: str | None = None,
    product: str | None = None,
    brand: str | None = None,
    category: str | None = None,
    color: str | None = None,
    size: str | None = None,
) -> ToolResult:
    line_ref = given(
        ordinal=ordinal,
        reference=reference,
        product=product,
        brand=brand,
        category=category,
        color=color,
        size=size,
    )
    last = ctx.state.last_cart_line_id
    changed = None
    if quantity and last and not _names_a_line(line_ref):
        # "make it 2" means the line last touched, as _resolve_line would pick it: the write reads the
        # lines under its lock and refuses a line no longer in the cart (then the lines are read here).
        with contextlib.suppress(CartLineNotFound):
            cart = cart_set_quantity(shopper=ctx.shopper, line_id=last, quantity=int(quantity))
            changed = next(x for x in cart.lines.all() if x.pk == last)
    if changed is None:
        changed = _resolve_line(ctx, line_ref)
        cart = cart_set_quantity(shopper=ctx.shopper, line_id=changed.pk, quantity=int(quantity))
    ctx.state.last_cart_line_id = changed.pk if quantity else None
    label = changed.variant.label
    return ToolResult(
        SUCCEEDED,
        f"Set {label} to {quantity}.",
        cart=cart,
        cart_loaded=True,  # with its lines as read under its lock
        suggestions=["Show my cart"],
    )


@tool(
    "change_cart_option",
    "Move a cart line (the one named, else the last one touched) to another size and/or colour of the "
    "same product, keeping its quantity.",
    object_schema(
        {
            **{k: v for k, v in _LINE_REF.items() if k not in ("size", "color")},
            "to_size": {"type": "string", "description": "the new size (at least one of to_size, to_color)"},
            "to_color": {"type": "string", "description": "the new colour"},
        }
    ),
    intent="update_cart",
)
def change_cart_option(
    ctx: ToolContext,
    to_size: str | None = None,
    to_color: str | None = None,
    ordinal: int | None = None,
    reference: str | None = None,
    product: str | None = None,
    brand: str | None = None,
    category: str | None = None,
) -> ToolResult:
    line = _resolve_line(
        ctx, given(ordinal=ordinal, reference=reference, product=product, brand=brand, category=category)
    )
    before = line.variant.label
    cart, changed = cart_change_option(shopper=ctx.shopper, line_id=line.pk, size=to_size, color=to_color)
    ctx.state.last_cart_line_id = changed.pk
    if changed.variant_id == line.variant_id:
        return ToolResult(SKIPPED, f"{before} is already that option.", text=f"It's already {before}.")
    merged = f" (now {changed.quantity} in your cart)" if changed.pk != line.pk else ""
    return ToolResult(
        SUCCEEDED,
        f"Changed {before} to {changed.variant.label}{merged}.",
        cart=cart,
        suggestions=["Show my cart"],
    )


@tool(
    "adjust_cart_quantity",
    "Change the quantity of a cart line by a delta (+1 'one more', -1 'remove one').",
    object_schema(
        {
            **_LINE_REF,
            "delta": {"type": "integer", "minimum": -50, "maximum": 50},
            "factor": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10,
                "description": "multiply instead ('double it')",
            },
        }
    ),
)
def adjust_cart_quantity(
    ctx: ToolContext,
    delta: int = 0,
    factor: int | None = None,
    ordinal: int | None = None,
    reference: str | None = None,
    product: str | None = None,
    brand: str | None = None,
    category: str | None = None,
    color: str | None = None,
    size: str | None = None,
) -> ToolResult:
    line = _resolve_line(
        ctx,
        given(
            ordinal=ordinal,
            reference=reference,
            product=product,
            brand=brand,
            category=category,
            color=color,
            size=size,
        ),
    )
    quantity = line.quantity * int(factor) if factor else max(line.quantity + int(delta), 0)
    cart = cart_set_quantity(shopper=ctx.shopper, line_id=line.pk, quantity=quantity)
    ctx.state.last_cart_line_id = line.pk if quantity else None
    label = line.variant.label
    detail = f"{label} is now {quantity}." if quantity else f"Removed {label}."
    return ToolResult(SUCCEEDED, detail, cart=cart, suggestions=["Show my cart"])


@tool(
    "remove_from_cart",
    "Remove a line from the cart (named by words, position or 'it').",
    object_schema(_LINE_REF),
)
def remove_from_cart(
    ctx: ToolContext,
    ordinal: int | None = None,
    reference: str | None = None,
    product: str | None = None,
    brand: str | None = None,
    category: str | None = None,
    color: str | None = None,
    size: str | None = None,
) -> ToolResult:
    line = _resolve_line(
        ctx,
        given(
            ordinal=ordinal,
            reference=reference,
            product=product,
            brand=brand,
            category=category,
            color=color,
            size=size,
        ),
    )
    cart = cart_remove_line(shopper=ctx.shopper, line_id=line.pk)
    if ctx.state.last_cart_line_id == line.pk:
        ctx.state.last_cart_line_id = None
    return ToolResult(SUCCEEDED, f"Removed {line.variant.label} from the cart.", cart=cart, cart_loaded=True)


@tool(
    "clear_cart",
    "Empty the cart (lines and discount code).",
    object_schema({}),
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
    """The cart in words: one line per item, then the totals (from ``cart_totals`` only).

    ``cart`` is loaded by ``cart_with_lines()`` (as ``cart_for_shopper`` returns it): nothing is read again.
    """
    if cart is None:
        return "Your cart is empty."
    totals = cart_totals(cart)
    if not totals.lines:
        return "Your cart is empty."
    rows = [
        f"- {lt.line.quantity} x {lt.line.variant.label}: ${money_str(lt.line_total)}" for lt in totals.lines
    ]
    text = "Your cart:\n" + "\n".join(rows)
    if cart.discount is not None:
        text += f"\nCode {cart.discount.code}: -${money_str(totals.discount)}"
    return text + f"\nTotal: ${money_str(totals.total)}"


@tool("view_cart", "Show the cart's lines and totals.", object_schema({}))
def view_cart(ctx: ToolContext) -> ToolResult:
    cart = _loaded_cart(ctx)
    count = sum(line.quantity for line in cart.lines.all()) if cart is not None else 0
    return ToolResult(
        SUCCEEDED,
        f"Showed the cart ({items(count)}).",
        text=cart_summary(cart),
        cart=cart,
        cart_loaded=True,
        links=[Link("Open your cart", "/cart/")],
        suggestions=["Checkout"] if count else ["Show me running shoes"],
    )


@tool(
    "apply_discount",
    "Put a discount code the shopper gave on the cart.",
    object_schema({"code": {"type": "string", "maxLength": 40}}, ("code",)),
)
def apply_discount(ctx: ToolContext, code: str) -> ToolResult:
    if not code:
        return ToolResult(SKIPPED, "No code given.", text='Which code? Say for example "apply code SAVE10".')
    cart = cart_apply_discount(shopper=ctx.shopper, code=code)
    return ToolResult(SUCCEEDED, f"Applied code {code.upper()}.", cart=cart, suggestions=["Show my cart"])
