"""Understanding + dialogue state -> a Plan: which tools to run, with which arguments, in which mode.

The plan is capped at ``ORCHESTRATOR_MAX_ACTIONS_PER_REQUEST`` steps (the rest are reported as
skipped, never silently dropped), gated by ``LLM_PLANNER_MIN_CONFIDENCE`` (below it the plan is a
question and nothing runs) and carries ``LLM_PLANNER_EXECUTION_MODE`` (``partial``: each step on its
own; ``atomic``: all or nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from conversations.assistant.nlu import IntentResult, Understanding
from conversations.assistant.state import State

PARTIAL = "partial"
ATOMIC = "atomic"

# Intents the planner turns into tool steps (the pipeline sends it any message holding one of them).
CART_INTENTS = frozenset(
    {
        "add_to_cart",
        "search_and_add_to_cart",
        "add_multiple_to_cart",
        "update_cart",
        "adjust_cart_quantity",
        "remove_from_cart",
        "clear_cart",
        "view_cart",
        "apply_discount",
    }
)
ORDER_INTENTS = frozenset(
    {"checkout", "order_status", "multi_status", "change_order_address", "cancel_order", "request_refund"}
)
MEMORY_INTENTS = frozenset(
    {"save_preference", "show_memory", "forget_preference", "clear_memory", "recommend"}
)
ACTED_INTENTS = CART_INTENTS | ORDER_INTENTS | MEMORY_INTENTS
# a search is planned only next to one of those ("find running shoes and add the cheapest one")
PLANNED_INTENTS = ACTED_INTENTS | {"product_search"}
# The NLU's preference slots -> the memory API's field names (the save_preference tool's ``changes``).
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
_PRODUCT_SLOTS = ("ordinal", "reference", "product", "brand", "category", "size", "color")


@dataclass
class Step:
    intent: str  # the Action's type
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # why a step is not run (set on skipped steps and unsupported requests)


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    skipped: list[Step] = field(default_factory=list)  # over the cap or not doable: reported, not run
    question: str | None = None  # set when the planner asks instead of acting
    mode: str = PARTIAL


def _pick(slots: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {n: slots[n] for n in names if slots.get(n) not in (None, "")}


def _steps_for(intent: IntentResult) -> list[Step]:
    name, slots = intent.name, dict(intent.slots)
    if name in ("add_to_cart", "search_and_add_to_cart"):
        args = _pick(slots, _PRODUCT_SLOTS)
        if name == "search_and_add_to_cart":
            args.pop("ordinal", None)
        if slots.get("quantity"):
            args["quantity"] = int(slots["quantity"])
        return [Step(name, "add_to_cart", args)]
    if name == "add_multiple_to_cart":
        steps = []
        for item in slots.get("items") or []:
            args = _pick(item, _PRODUCT_SLOTS)
            if item.get("quantity"):
                args["quantity"] = int(item["quantity"])
            steps.append(Step(name, "add_to_cart", args))
        return steps
    if name == "update_cart":
        if slots.get("quantity") is not None:
            return [
                Step(
                    name,
                    "update_cart_quantity",
                    {**_pick(slots, _PRODUCT_SLOTS), "quantity": slots["quantity"]},
                )
            ]
        if slots.get("quantity_factor"):
            return [
                Step(
                    name,
                    "adjust_cart_quantity",
                    {**_pick(slots, _PRODUCT_SLOTS), "factor": slots["quantity_factor"]},
                )
            ]
        # "change it to size L", "make the hoodie black instead": the line keeps its quantity.
        line = {k: v for k, v in _pick(slots, _PRODUCT_SLOTS).items() if k not in ("size", "color")}
        option = {f"to_{k}": slots[k] for k in ("size", "color") if slots.get(k)}
        if option:
            return [Step(name, "change_cart_option", {**line, **option})]
        return [Step(name, "", reason="Tell me the new quantity, size or colour, e.g. make it 2.")]
    if name == "adjust_cart_quantity":
        if slots.get("quantity_factor"):
            factor = int(slots["quantity_factor"])
            return [Step(name, "adjust_cart_quantity", {**_pick(slots, _PRODUCT_SLOTS), "factor": factor})]
        delta = slots.get("quantity_delta") or 1
        return [Step(name, "adjust_cart_quantity", {**_pick(slots, _PRODUCT_SLOTS), "delta": int(delta)})]
    if name == "remove_from_cart":
        return [Step(name, "remove_from_cart", _pick(slots, _PRODUCT_SLOTS))]
    if name == "clear_cart":
        return [Step(name, "clear_cart")]
    if name == "view_cart":
        return [Step(name, "view_cart")]
    if name == "apply_discount":
        return [Step(name, "apply_discount", {"code": slots.get("code") or ""})]
    if name == "checkout":
        return [Step(name, "place_order")]
    order_id = {"order_id": str(slots["order_id"])} if slots.get("order_id") else {}
    if name == "order_status":
        return [Step(name, "order_status", order_id)]
    if name == "multi_status":
        ids = slots.get("order_ids") or ([slots["order_id"]] if slots.get("order_id") else [])
        return [Step(name, "orders_status", {"order_ids": [str(i) for i in ids]} if ids else {})]
    if name in ("cancel_order", "request_refund"):
        return [Step(name, name, order_id)]
    if name == "change_order_address":
        return [Step(name, name, {**order_id, "address": slots.get("address") or {}})]
    if name == "save_preference":
        return [Step(name, "save_preference", {"changes": preference_changes(slots)})]
    if name == "show_memory":
        return [Step(name, "show_memory", _pick(slots, ("preference_key",)))]
    if name == "forget_preference":
        return [Step(name, "forget_preference", _pick(slots, ("preference_key", "value", "size_kind")))]
    if name == "clear_memory":
        return [Step(name, "clear_memory", {"scope": slots.get("scope") or "all"})]
    if name == "recommend":
        return [
            Step(name, "recommend", {k: str(v) for k, v in _pick(slots, ("category", "max_price")).items()})
        ]
    if name == "product_search":
        query = slots.get("product") or slots.get("category") or ""
        args: dict[str, Any] = {"query": str(query)}
        for key in ("brand", "size", "color", "min_price", "max_price"):
            if slots.get(key) not in (None, ""):
                args[key] = str(slots[key])
        if slots.get("sort") in ("price_asc", "price_desc", "newest"):
            args["sort"] = slots["sort"]
        return [Step(name, "search_products", args)]
    return [Step(name, "", reason="That isn't something I can do in chat.")]


def preference_changes(slots: dict[str, Any]) -> dict[str, Any]:
    """The NLU's preference slots as a partial update in the memory API's names.

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


def plan(understanding: Understanding, state: State) -> Plan:
    """The steps for every planned intent of the message, in message order."""
    mode = ATOMIC if settings.LLM_PLANNER_EXECUTION_MODE == ATOMIC else PARTIAL
    if understanding.confidence < settings.LLM_PLANNER_MIN_CONFIDENCE:
        return Plan(
            question="I'm not sure I understood, so I haven't changed anything. "
            "Could you say it another way?",
            mode=mode,
        )
    steps: list[Step] = []
    for intent in understanding.intents:
        steps.extend(_steps_for(intent))
    unsupported = [s for s in steps if not s.tool]
    runnable = [s for s in steps if s.tool]
    cap = max(int(settings.ORCHESTRATOR_MAX_ACTIONS_PER_REQUEST), 0)
    over = runnable[cap:]
    for step in over:
        step.reason = f"Not done: at most {cap} actions per message. Please ask again for the rest."
    return Plan(steps=runnable[:cap], skipped=unsupported + over, mode=mode)
