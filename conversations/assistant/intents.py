"""Every intent the assistant knows, in one table that the understanding, both planners and the pipeline read.

An :class:`IntentSpec` says what an intent is: whether it writes to the store, reads it, or is only
conversation; the tool that serves it and how the understanding's slots become that tool's arguments;
the slots the rules fill for it; and examples (a test checks that each example is read as its intent).
Intents are an enum, so a typo is an error instead of a silent fall-through.

Adding an intent: add it to :class:`Intent`, give it a spec here (its tool registered in
``tools/``), teach the rules a phrasing (``nlu``), and add labelled lines and a scenario
(``docs/assistant-nlu.md``). A tool alone (no intent) is seen by the model at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Intent(StrEnum):
    PRODUCT_SEARCH = "product_search"
    SEARCH_AND_ADD_TO_CART = "search_and_add_to_cart"
    ADD_TO_CART = "add_to_cart"
    ADD_MULTIPLE_TO_CART = "add_multiple_to_cart"
    UPDATE_CART = "update_cart"
    ADJUST_CART_QUANTITY = "adjust_cart_quantity"
    REMOVE_FROM_CART = "remove_from_cart"
    CLEAR_CART = "clear_cart"
    VIEW_CART = "view_cart"
    APPLY_DISCOUNT = "apply_discount"
    REDEEM_RECOVERY_CODE = "redeem_recovery_code"
    ABANDONMENT_REASON = "abandonment_reason"
    CHECKOUT = "checkout"
    ORDER_STATUS = "order_status"
    MULTI_STATUS = "multi_status"
    CHANGE_ORDER_ADDRESS = "change_order_address"
    CANCEL_ORDER = "cancel_order"
    REQUEST_REFUND = "request_refund"
    SUPPORT_ESCALATION = "support_escalation"
    SUPPORT_STATUS = "support_status"
    SUPPORT_CLOSE = "support_close"
    GENERAL_QUESTION = "general_question"
    SAVE_PREFERENCE = "save_preference"
    SHOW_MEMORY = "show_memory"
    FORGET_PREFERENCE = "forget_preference"
    CLEAR_MEMORY = "clear_memory"
    RECOMMEND = "recommend"
    GREETING = "greeting"
    HELP = "help"
    CONFIRM = "confirm"
    DENY = "deny"
    PROVIDE_INFO = "provide_info"
    OUT_OF_SCOPE = "out_of_scope"


WRITES = "writes"
READS = "reads"
CONVERSATION = "conversation"


@dataclass(frozen=True)
class Call:
    """One tool call a spec makes of a reading; ``tool`` empty: not doable, ``reason`` says why."""

    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


Arguments = Callable[[dict[str, Any], str], list[Call]]


@dataclass(frozen=True)
class IntentSpec:
    name: Intent
    kind: str  # WRITES, READS or CONVERSATION
    tool: str = ""  # the registered tool that serves it ("" for conversation)
    arguments: Arguments | None = None  # slots + the message -> tool calls (default: no arguments)
    examples: tuple[str, ...] = ()

    def calls(self, slots: dict[str, Any], text: str) -> list[Call]:
        if not self.tool and self.arguments is None:
            return [Call("", reason="That isn't something I can do in chat.")]
        if self.arguments is None:
            return [Call(self.tool)]
        return self.arguments(slots, text)


# --- how slots become arguments ----------------------------------------------------------------------------

PRODUCT_SLOTS = ("ordinal", "reference", "product", "brand", "category", "size", "color")
PREFERENCE_FIELDS = {
    "sizes": "sizes",
    "brands": "brands",
    "disliked_brands": "dislikedBrands",
    "categories": "categories",
    "disliked_categories": "dislikedCategories",
    "styles": "styles",
    "disliked_styles": "dislikedStyles",
    "colors": "colors",
    "disliked_colors": "dislikedColors",
    "price_min": "priceMin",
    "price_max": "priceMax",
}
_TICKET_NUMBER = re.compile(r"(?:ticket|#)\s*#?(\d{1,9})\b", re.IGNORECASE)


def pick(slots: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {n: slots[n] for n in names if slots.get(n) not in (None, "")}


def search_terms(slots: dict[str, Any], text: str = "") -> dict[str, Any]:
    """The product slots as ``search_products`` arguments.

    The category goes into the text query rather than the exact category filter: the NLU's category
    words ("running shoes") need not be the catalog's category names, and the text search covers
    category names anyway.
    """
    query = slots.get("product") or slots.get("category") or ""
    terms: dict[str, Any] = {"query": str(query)}
    if slots.get("category") and slots["category"] != query:
        terms["category"] = str(slots["category"])
    for arg, names in (
        ("brand", ("brand",)),
        ("size", ("size",)),
        ("color", ("color",)),
        ("min_price", ("min_price", "price_min")),
        ("max_price", ("max_price", "price_max")),
    ):
        value = next((slots[n] for n in names if slots.get(n) not in (None, "")), None)
        if value is not None:
            terms[arg] = str(value)
    if slots.get("sort") in ("price_asc", "price_desc", "newest", "relevance"):
        terms["sort"] = slots["sort"]
    return terms


def preference_changes(slots: dict[str, Any]) -> dict[str, Any]:
    """The preference slots as a partial update in the memory API's names.

    Words the NLU could not place (``unrecognized``/``unrecognized_disliked``: a brand it does not
    know, a misspelling) go under ``unplaced``/``unplacedDisliked`` for the tool to place against the
    catalog's vocabulary; ``dislikedStyles``/``dislikedCategories`` (no such list in the memory) for
    the tool to say it cannot keep them."""
    changes: dict[str, Any] = {}
    if slots.get("unrecognized"):
        changes["unplaced"] = [str(v) for v in slots["unrecognized"]]
    if slots.get("unrecognized_disliked"):
        changes["unplacedDisliked"] = [str(v) for v in slots["unrecognized_disliked"]]
    for slot, name in PREFERENCE_FIELDS.items():
        value = slots.get(slot)
        if value in (None, "", [], {}):
            continue
        changes[name] = [str(v) for v in value] if isinstance(value, list) else value
    return changes


def _with_quantity(slots: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    if slots.get("quantity"):
        args["quantity"] = int(slots["quantity"])
    return args


def _add(slots: dict[str, Any], text: str) -> list[Call]:
    return [Call("add_to_cart", _with_quantity(slots, pick(slots, PRODUCT_SLOTS)))]


def _search_and_add(slots: dict[str, Any], text: str) -> list[Call]:
    args = pick(slots, PRODUCT_SLOTS)
    args.pop("ordinal", None)
    return [Call("add_to_cart", _with_quantity(slots, args))]


def _add_several(slots: dict[str, Any], text: str) -> list[Call]:
    return [
        Call("add_to_cart", _with_quantity(item, pick(item, PRODUCT_SLOTS)))
        for item in slots.get("items") or []
    ]


def _update(slots: dict[str, Any], text: str) -> list[Call]:
    line = pick(slots, PRODUCT_SLOTS)
    if slots.get("quantity") is not None:
        return [Call("update_cart_quantity", {**line, "quantity": slots["quantity"]})]
    if slots.get("quantity_factor"):
        return [Call("adjust_cart_quantity", {**line, "factor": slots["quantity_factor"]})]
    # "change it to size L", "make the hoodie black instead": the line keeps its quantity.
    line = {k: v for k, v in line.items() if k not in ("size", "color")}
    option = {f"to_{k}": slots[k] for k in ("size", "color") if slots.get(k)}
    if option:
        return [Call("change_cart_option", {**line, **option})]
    return [Call("", reason="Tell me the new quantity, size or colour, e.g. make it 2.")]


def _adjust(slots: dict[str, Any], text: str) -> list[Call]:
    line = pick(slots, PRODUCT_SLOTS)
    if slots.get("quantity_factor"):
        return [Call("adjust_cart_quantity", {**line, "factor": int(slots["quantity_factor"])})]
    return [Call("adjust_cart_quantity", {**line, "delta": int(slots.get("quantity_delta") or 1)})]


def _order_id(slots: dict[str, Any]) -> dict[str, Any]:
    return {"order_id": str(slots["order_id"])} if slots.get("order_id") else {}


def _for_order(tool: str) -> Arguments:
    return lambda slots, text: [Call(tool, _order_id(slots))]


def _orders(slots: dict[str, Any], text: str) -> list[Call]:
    ids = slots.get("order_ids") or ([slots["order_id"]] if slots.get("order_id") else [])
    return [Call("orders_status", {"order_ids": [str(i) for i in ids]} if ids else {})]


def _readdress(slots: dict[str, Any], text: str) -> list[Call]:
    return [Call("change_order_address", {**_order_id(slots), "address": slots.get("address") or {}})]


def _ticket(tool: str) -> Arguments:
    def calls(slots: dict[str, Any], text: str) -> list[Call]:
        number = _TICKET_NUMBER.search(text)
        return [Call(tool, {"ticket_id": int(number.group(1))} if number else {})]

    return calls


def _escalate(slots: dict[str, Any], text: str) -> list[Call]:
    order_ids = slots.get("order_ids") or slots.get("order_id") or ""
    order = order_ids[0] if isinstance(order_ids, list) and order_ids else str(order_ids or "")
    return [Call("open_support_ticket", {"message": text, **({"order_id": order} if order else {})})]


def _policy(slots: dict[str, Any], text: str) -> list[Call]:
    return [Call("store_policy", {"question": text, **pick(slots, ("topic",))})]


SPECS: dict[Intent, IntentSpec] = {
    spec.name: spec
    for spec in (
        IntentSpec(
            Intent.PRODUCT_SEARCH,
            READS,
            "search_products",
            lambda slots, text: [Call("search_products", search_terms(slots))],
            ("show me running shoes under $150 in size 10", "hi! show me running shoes under $100"),
        ),
        IntentSpec(
            Intent.SEARCH_AND_ADD_TO_CART,
            WRITES,
            "add_to_cart",
            _search_and_add,
            ("add a black hoodie in size M to my cart", "buy a pair of Stride running shoes in size 10"),
        ),
        IntentSpec(
            Intent.ADD_TO_CART, WRITES, "add_to_cart", _add, ("add the second one", "add it to my cart")
        ),
        IntentSpec(
            Intent.ADD_MULTIPLE_TO_CART,
            WRITES,
            "add_to_cart",
            _add_several,
            ("add 2 running shoes and 1 hoodie",),
        ),
        IntentSpec(
            Intent.UPDATE_CART,
            WRITES,
            "update_cart_quantity",
            _update,
            ("make it 2", "change the quantity of the hoodie to 3"),
        ),
        IntentSpec(
            Intent.ADJUST_CART_QUANTITY,
            WRITES,
            "adjust_cart_quantity",
            _adjust,
            ("one more", "add another one"),
        ),
        IntentSpec(
            Intent.REMOVE_FROM_CART,
            WRITES,
            "remove_from_cart",
            lambda slots, text: [Call("remove_from_cart", pick(slots, PRODUCT_SLOTS))],
            ("remove the socks", "take the hoodie out of my cart"),
        ),
        IntentSpec(Intent.CLEAR_CART, WRITES, "clear_cart", None, ("empty my cart", "clear the cart")),
        IntentSpec(Intent.VIEW_CART, READS, "view_cart", None, ("show my cart", "what's in my cart?")),
        IntentSpec(
            Intent.APPLY_DISCOUNT,
            WRITES,
            "apply_discount",
            lambda slots, text: [Call("apply_discount", {"code": slots.get("code") or ""})],
            ("apply code SAVE10", "use coupon welcome5"),
        ),
        IntentSpec(
            Intent.REDEEM_RECOVERY_CODE,
            WRITES,
            "redeem_recovery_code",
            lambda slots, text: [Call("redeem_recovery_code", {"code": slots.get("code") or ""})],
            ("my code is 4F7K2Q", "here's my recovery code 4f7k2q"),
        ),
        IntentSpec(
            Intent.ABANDONMENT_REASON,
            WRITES,
            "record_abandonment_reason",
            lambda slots, text: [
                Call("record_abandonment_reason", {"reason": slots.get("reason") or "other"})
            ],
            ("shipping costs too much", "I'll think about it"),
        ),
        IntentSpec(Intent.CHECKOUT, WRITES, "place_order", None, ("checkout", "check out")),
        IntentSpec(
            Intent.ORDER_STATUS, READS, "order_status", _for_order("order_status"), ("where is my order",)
        ),
        IntentSpec(
            Intent.MULTI_STATUS,
            READS,
            "orders_status",
            _orders,
            ("status of all my orders", "show my orders"),
        ),
        IntentSpec(
            Intent.CHANGE_ORDER_ADDRESS,
            WRITES,
            "change_order_address",
            _readdress,
            ("ship it to 500 Main St, Austin, TX 78701",),
        ),
        IntentSpec(
            Intent.CANCEL_ORDER,
            WRITES,
            "cancel_order",
            _for_order("cancel_order"),
            ("cancel order 4F7K2Q", "cancel my order"),
        ),
        IntentSpec(
            Intent.REQUEST_REFUND,
            WRITES,
            "request_refund",
            _for_order("request_refund"),
            ("refund order 4F7K2Q", "I want my money back"),
        ),
        IntentSpec(
            Intent.SUPPORT_ESCALATION,
            WRITES,
            "open_support_ticket",
            _escalate,
            ("I want to talk to a human", "my parcel arrived damaged"),
        ),
        IntentSpec(
            Intent.SUPPORT_STATUS,
            READS,
            "support_ticket_status",
            _ticket("support_ticket_status"),
            ("what's the status of my ticket", "any update on my support request?"),
        ),
        IntentSpec(
            Intent.SUPPORT_CLOSE,
            WRITES,
            "close_support_ticket",
            _ticket("close_support_ticket"),
            ("close my ticket", "my issue is resolved, you can close the case"),
        ),
        IntentSpec(
            Intent.GENERAL_QUESTION,
            READS,
            "store_policy",
            _policy,
            ("what is your return policy", "how long does shipping take?"),
        ),
        IntentSpec(
            Intent.SAVE_PREFERENCE,
            WRITES,
            "save_preference",
            lambda slots, text: [Call("save_preference", {"changes": preference_changes(slots)})],
            ("remember I like denim and size M", "I wear 10.5 in shoes"),
        ),
        IntentSpec(
            Intent.SHOW_MEMORY,
            READS,
            "show_memory",
            lambda slots, text: [Call("show_memory", pick(slots, ("preference_key",)))],
            ("what do you remember about me", "what do you know about me?"),
        ),
        IntentSpec(
            Intent.FORGET_PREFERENCE,
            WRITES,
            "forget_preference",
            lambda slots, text: [
                Call("forget_preference", pick(slots, ("preference_key", "value", "size_kind")))
            ],
            ("forget my color preference", "forget that I like red"),
        ),
        IntentSpec(
            Intent.CLEAR_MEMORY,
            WRITES,
            "clear_memory",
            lambda slots, text: [Call("clear_memory", {"scope": slots.get("scope") or "all"})],
            ("forget everything about me", "clear my memory"),
        ),
        IntentSpec(
            Intent.RECOMMEND,
            READS,
            "recommend",
            lambda slots, text: [
                Call("recommend", {k: str(v) for k, v in pick(slots, ("category", "max_price")).items()})
            ],
            ("what would you recommend for me?", "anything new in my style?"),
        ),
        IntentSpec(Intent.GREETING, CONVERSATION, examples=("hi", "hello there!")),
        IntentSpec(Intent.HELP, CONVERSATION, examples=("help", "what can you do?")),
        IntentSpec(Intent.CONFIRM, CONVERSATION, examples=("yes please", "yep, sounds good")),
        IntentSpec(Intent.DENY, CONVERSATION, examples=("never mind", "no thanks")),
        IntentSpec(Intent.PROVIDE_INFO, CONVERSATION),  # an answer to a question the assistant asked
        IntentSpec(
            Intent.OUT_OF_SCOPE, CONVERSATION, examples=("what is the capital of france", "tell me a joke")
        ),
    )
}

INTENT_NAMES = frozenset(str(i) for i in Intent)
WRITE_INTENTS = frozenset(str(s.name) for s in SPECS.values() if s.kind == WRITES)
TOOL_INTENTS = frozenset(str(s.name) for s in SPECS.values() if s.tool)
CONVERSATION_INTENTS = frozenset(str(s.name) for s in SPECS.values() if s.kind == CONVERSATION)


def spec_for(name: str) -> IntentSpec | None:
    try:
        return SPECS[Intent(name)]
    except ValueError:
        return None
