"""The assistant's memory tools: remember, show, forget and recommend, on the memory app's services.

Registered in the same registry as the cart and order tools (``tools.registry.REGISTRY``). Each calls
``memory.services`` / ``memory.selectors`` with the session's own user; a guest is told that memory
needs an account and nothing is stored. Validation (values the catalog does not know, a size that
does not fit its kind) is the memory app's: its message, with its "did you mean", is the reply.
"""

from __future__ import annotations

from typing import Any

from catalog.errors import InvalidSearch
from catalog.models import Product
from catalog.selectors import product_featured, product_named, product_search
from commerce.errors import DomainError
from conversations.assistant.reply import FAILED, SKIPPED, SUCCEEDED, Link
from conversations.assistant.tools.registry import (
    MAX_PRODUCTS_SHOWN,
    Preview,
    ToolContext,
    ToolResult,
    object_schema,
    preview_for,
    show,
    sign_in_link,
    tool,
)
from memory import selectors as memory_selectors
from memory import services as memory_services
from memory.models import Preference

MEMORY_PAGE = "/account/memory/"
FIELD_WORDS = {
    "brands": "you like {}",
    "dislikedBrands": "you don't like {}",
    "categories": "you like {}",
    "styles": "you like {}",
    "colors": "you like {}",
    "dislikedColors": "you don't like {}",
}
# Where a value named without its list ("I no longer like Aerolite") may be remembered.
VALUE_LISTS = ("brands", "dislikedBrands", "colors", "dislikedColors", "styles", "categories")
CLEAR_SCOPES = {
    "all": (
        memory_services.memory_clear,
        "everything I remember about you (preferences, interests, summaries)",
    ),
    "preferences": (memory_services.preferences_clear, "your saved preferences"),
    "history": (memory_services.history_clear, "the summaries of our conversations"),
}


def _guest(ctx: ToolContext, what: str) -> ToolResult | None:
    if ctx.shopper.user is not None:
        return None
    return ToolResult(
        SKIPPED,
        f"{what} needs a signed-in account.",
        text=f"I only remember things for signed-in shoppers, so I haven't stored anything. Sign in and I "
        f"can {what.lower()}; your cart stays with you.",
        links=[sign_in_link("/")],
    )


def reaction_reply(
    *, liked: bool, signed_in: bool, product_name: str = "", example: str = "hoodies"
) -> tuple[str, list[str]]:
    """What to say to "I like this hoodie" / "I love the Cloud Hoodie" / "I hate that one": a reaction
    to a product, not a preference to keep (storing "likes hoodies" from it would be a guess the
    shopper never asked for). The text and the suggested replies."""
    if not liked:
        text = "Fair enough. Want to see something else?"
        if signed_in:
            text += (
                " If it's a colour or brand you never want, tell me (\"I don't like neon\") and I'll "
                "remember it."
            )
        return text, ["What would you recommend for me?", "Show me hoodies"]
    text = (
        f'Glad you like {"the " + product_name if product_name else "it"}! Say "add it to my cart" to get it.'
    )
    if signed_in:
        text += f' Want me to keep it in mind? Say what to remember, e.g. "remember I like {example}".'
    return text, ["Add it to my cart", "What would you recommend for me?"]


def _reaction_to_product(ctx: ToolContext, product: Product, *, liked: bool) -> ToolResult:
    """ "I love the cloud hoodie": the product becomes the one "it" means; nothing is remembered."""
    ctx.state.show([product.pk])
    text, suggestions = reaction_reply(
        liked=liked,
        signed_in=ctx.shopper.user is not None,
        product_name=product.name,
        example=product.brand or "hoodies",
    )
    return ToolResult(
        SKIPPED, f"A reaction to {product.name}; nothing remembered.", text=text, suggestions=suggestions
    )


LIKED_LISTS = ("brands", "categories", "styles", "colors")
# only brands and colours have a "don't like" list
DISLIKED_LISTS = ("dislikedBrands", "dislikedColors")


def _place(word: str, fields: tuple[str, ...] = LIKED_LISTS) -> str:
    """The list a word belongs to (liked: brand, category, style or colour; disliked: brand or
    colour), by the catalog's vocabulary; raises the memory app's error for a brand (with its "did
    you mean") when none fits."""
    first_error: DomainError | None = None
    for field in fields:
        try:
            memory_services.preferences_validate(changes={field: [word]})
        except DomainError as exc:
            first_error = first_error or exc
            continue
        return field
    if first_error is None:  # no list was offered to try
        raise ValueError("A word needs at least one list to be placed in.")
    raise first_error


def _said(changes: dict[str, Any]) -> str:
    """What was remembered, in words, from the validated rows (the catalog's spelling)."""
    parts = [
        f"size {size} in {key.split('.', 1)[1]}"
        for key, size in changes.items()
        if key.startswith("sizes.") and size
    ]
    for field, words in FIELD_WORDS.items():
        if changes.get(field):
            parts.append(words.format(" and ".join(changes[field])))
    if changes.get("priceMin") is not None and changes.get("priceMax") is not None:
        parts.append(f"a budget of ${changes['priceMin']}-${changes['priceMax']}")
    elif changes.get("priceMax") is not None:
        parts.append(f"a budget up to ${changes['priceMax']}")
    elif changes.get("priceMin") is not None:
        parts.append(f"prices from ${changes['priceMin']}")
    return ", ".join(parts)


@tool(
    "save_preference",
    "Remember the shopper's stated preferences (sizes per kind, liked/disliked brands, categories, styles, "
    "colours, a price range); values are checked against the catalog.",
    object_schema(
        {
            "changes": {
                "type": "object",
                "description": "a partial update in the memory API's names: sizes "
                "({tops|bottoms|shoes: size}), brands, dislikedBrands, categories, styles, colors, "
                "dislikedColors (lists of words), priceMin, priceMax (decimals as strings)",
            }
        },
        ("changes",),
    ),
)
def save_preference(ctx: ToolContext, changes: dict[str, Any]) -> ToolResult:
    changes = dict(changes or {})
    # the memory keeps no "don't like" list of styles or categories: said, not silently dropped
    unkept = [str(v) for key in ("dislikedStyles", "dislikedCategories") for v in changes.pop(key, [])]
    for key, fields in (("unplaced", LIKED_LISTS), ("unplacedDisliked", DISLIKED_LISTS)):
        for word in changes.pop(key, []):
            try:
                field = _place(word, fields)
            except DomainError as exc:
                product = product_named(phrase=word)  # "I love the cloud hoodie": about that product
                if product is not None:
                    return _reaction_to_product(ctx, product, liked=key == "unplaced")
                return ToolResult(FAILED, exc.message, text=f"{exc.message} I haven't saved anything.")
            changes[field] = [*changes.get(field, []), word]
    refused = _guest(ctx, "Remember your preferences")
    if refused is not None:
        return refused
    not_kept = (
        f"I can only remember brands and colours you don't like, so not {' and '.join(unkept)}. "
        if unkept
        else ""
    )
    if not changes:
        return ToolResult(
            SKIPPED,
            not_kept.strip() or "No preference recognised.",
            text=not_kept
            + 'Tell me what to remember, e.g. "remember I wear size M" or "I don\'t like neon".',
        )
    try:
        said = _said(memory_services.preferences_validate(changes=changes))
        memory_services.preferences_update(
            user=ctx.shopper.user, changes=changes, source=Preference.Source.CHAT, merge=True
        )
    except DomainError as exc:
        return ToolResult(FAILED, exc.message, text=f"{exc.message} I haven't saved anything.")
    return ToolResult(
        SUCCEEDED,
        f"Remembered: {said}.",
        text=f"Got it: I'll remember {said}. {not_kept}"
        "You can see and change it any time on your memory page.",
        links=[Link("What we remember", MEMORY_PAGE)],
        suggestions=["What would you recommend for me?", "What do you remember about me?"],
    )


def _memory_lines(snapshot: dict[str, Any], key: str | None) -> list[str]:
    prefs = snapshot["preferences"]
    lines = []
    sizes = ", ".join(f"{kind} {size}" for kind, size in prefs["sizes"].items() if size)
    if sizes and key in (None, "sizes"):
        lines.append(f"- sizes: {sizes}")
    for field, label in (
        ("brands", "brands you like"),
        ("dislikedBrands", "brands you don't like"),
        ("categories", "categories you like"),
        ("styles", "styles you like"),
        ("colors", "colours you like"),
        ("dislikedColors", "colours you don't like"),
    ):
        if prefs[field] and key in (None, field, field.replace("disliked", "").lower()):
            lines.append(f"- {label}: {', '.join(prefs[field])}")
    if (prefs["priceMin"] or prefs["priceMax"]) and key in (None, "price", "priceRange"):
        low, high = prefs["priceMin"], prefs["priceMax"]
        lines.append(f"- price range: {'$' + low if low else 'any'} to {'$' + high if high else 'any'}")
    if key is None:
        interests = [a["label"] for a in snapshot["affinities"][:3]]
        if interests:
            lines.append(f"- from what you looked at and bought: {', '.join(interests)}")
    return lines


@tool(
    "show_memory",
    "Tell the shopper what is remembered about them (stated preferences and inferred interests).",
    object_schema({"preference_key": {"type": "string", "maxLength": 40}}),
)
def show_memory(ctx: ToolContext, preference_key: str | None = None) -> ToolResult:
    refused = _guest(ctx, "Show what I remember")
    if refused is not None:
        return refused
    lines = _memory_lines(memory_selectors.memory_snapshot(user=ctx.shopper.user), preference_key)
    if not lines:
        text = (
            "I don't have anything saved about that yet."
            if preference_key
            else "I don't remember anything about you yet. Tell me your sizes or what you like, "
            'e.g. "remember I wear size M".'
        )
    else:
        text = "Here is what I remember about you:\n" + "\n".join(lines)
    return ToolResult(
        SUCCEEDED,
        f"Showed {len(lines)} remembered items.",
        text=text + "\nYou can change or delete any of it on your memory page, or ask me to forget it.",
        links=[Link("What we remember", MEMORY_PAGE)],
        suggestions=["Forget my sizes", "What would you recommend for me?"],
    )


def _forget_keys(preference_key: str | None, value: str | None, size_kind: str | None) -> list[str]:
    if preference_key == "sizes" and size_kind:
        return [f"sizes.{size_kind}"]
    if preference_key in ("brands", "colors") and value:
        return [preference_key, "disliked" + preference_key.capitalize()]
    if preference_key:
        return [preference_key]
    return list(VALUE_LISTS) if value else []


@tool(
    "forget_preference",
    "Forget one stated preference, or one value of a list preference.",
    object_schema(
        {
            "preference_key": {"type": "string", "maxLength": 40},
            "value": {"type": "string", "maxLength": 100},
            "size_kind": {"type": "string", "enum": ["tops", "bottoms", "shoes"]},
        }
    ),
)
def forget_preference(
    ctx: ToolContext,
    preference_key: str | None = None,
    value: str | None = None,
    size_kind: str | None = None,
) -> ToolResult:
    refused = _guest(ctx, "Forget a preference")
    if refused is not None:
        return refused
    keys = _forget_keys(preference_key, value, size_kind)
    if not keys:
        return ToolResult(
            SKIPPED,
            "No preference named.",
            text="Which preference should I forget? "
            'E.g. "forget my shoe size" or "forget that I like Stride".',
        )
    forgotten = False
    try:
        for key in keys:
            forgotten = (
                memory_services.preference_forget(user=ctx.shopper.user, key=key, value=value) or forgotten
            )
            if forgotten and value:
                break
    except DomainError as exc:
        return ToolResult(FAILED, exc.message)
    what = f"“{value}”" if value else (f"your {size_kind} size" if size_kind else f"your {preference_key}")
    if not forgotten:
        return ToolResult(SUCCEEDED, f"Nothing remembered for {what}.", text=f"I didn't have {what} saved.")
    return ToolResult(
        SUCCEEDED,
        f"Forgot {what}.",
        text=f"Done: I've forgotten {what}.",
        links=[Link("What we remember", MEMORY_PAGE)],
    )


@tool(
    "clear_memory",
    "Forget everything remembered about the shopper, or only the preferences or the conversation summaries.",
    object_schema({"scope": {"type": "string", "enum": list(CLEAR_SCOPES)}}),
    confirm=True,
)
def clear_memory(ctx: ToolContext, scope: str = "all") -> ToolResult:
    refused = _guest(ctx, "Clear your memory")
    if refused is not None:
        return refused
    clear, what = CLEAR_SCOPES.get(scope, CLEAR_SCOPES["all"])
    clear(user=ctx.shopper.user)
    return ToolResult(SUCCEEDED, f"Forgot {what}.", text=f"Done: I've forgotten {what}.")


@preview_for("clear_memory")
def _preview_clear_memory(ctx: ToolContext, scope: str = "all") -> Preview | ToolResult:
    refused = _guest(ctx, "Clear your memory")
    if refused is not None:
        return refused
    scope = scope if scope in CLEAR_SCOPES else "all"
    return Preview(
        args={"scope": scope},
        question=f"Shall I forget {CLEAR_SCOPES[scope][1]}? It is deleted for good. (yes / no)",
    )


@tool(
    "recommend",
    "Recommend products for the shopper from their preferences and interests (featured picks without them).",
    object_schema(
        {"category": {"type": "string", "maxLength": 100}, "max_price": {"type": "string", "maxLength": 20}}
    ),
)
def recommend(ctx: ToolContext, category: str | None = None, max_price: str | None = None) -> ToolResult:
    base = None
    if category or max_price:
        try:
            base = product_search(query=category or "", max_price=max_price, in_stock_only=True)
        except InvalidSearch as exc:
            return ToolResult(FAILED, exc.message)
    user = ctx.shopper.user
    # anything remembered (a dislike alone too: "I don't like neon" sinks the neon) ranks the picks
    remembered = user is not None and not memory_selectors.profile_for(user=user).is_empty
    picks: list[tuple[Product, str]]
    if remembered:
        picks = memory_selectors.recommend_for_user(user=user, limit=MAX_PRODUCTS_SHOWN, base_queryset=base)
    else:
        products = (
            list(base[:MAX_PRODUCTS_SHOWN])
            if base is not None
            else product_featured(limit=MAX_PRODUCTS_SHOWN)
        )
        picks = [(p, "") for p in products]
    if not picks:
        return ToolResult(
            SUCCEEDED, "Nothing in stock to recommend.", text="I have nothing in stock to recommend."
        )
    shown = show(ctx, [p for p, _ in picks])
    lines = [
        f"{i}. {p['name']} by {p['brand']}" + (f" ({reason})" if reason else "")
        for i, (p, (_, reason)) in enumerate(zip(shown, picks, strict=True), start=1)
    ]
    if remembered:
        intro = "Picked for you:"
    elif user is None:
        intro = "Some of our favourites right now (sign in and tell me what you like for picks of your own):"
    else:
        intro = (
            "Some of our favourites right now "
            '(tell me what you like, e.g. "I like denim", for your own picks):'
        )
    return ToolResult(
        SUCCEEDED,
        f"Recommended {len(shown)} products"
        + (" from the shopper's memory." if remembered else " (featured)."),
        text=intro + "\n" + "\n".join(lines),
        products=shown,
        suggestions=["Add the first one to my cart", "What do you remember about me?"],
    )
