"""Understanding + dialogue state -> a Plan: which tools to run, with which arguments, in which mode.

This is the rules planner. The model planner (``model_planner.py``) turns a model's tool calls into the
same :class:`Plan`, and the executor runs both the same way.

The plan is capped at ``ORCHESTRATOR_MAX_ACTIONS_PER_REQUEST`` steps (the rest are reported as
skipped, never silently dropped), gated by ``LLM_PLANNER_MIN_CONFIDENCE`` (below it the plan is a
question and nothing runs) and carries ``LLM_PLANNER_EXECUTION_MODE`` (``partial``: each step on its
own; ``atomic``: all or nothing).
"""

from __future__ import annotations

import re
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
SUPPORT_INTENTS = frozenset({"support_escalation", "support_status", "support_close"})
ACTED_INTENTS = CART_INTENTS | ORDER_INTENTS | MEMORY_INTENTS
# Every intent that reads or writes the store: each becomes tool steps. A search next to an acted intent
# is planned with it ("find running shoes and add the cheapest one").
PLANNED_INTENTS = ACTED_INTENTS | SUPPORT_INTENTS | {"product_search", "general_question"}
RULES = "rules"
MODEL = "llm"
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
    skipped: list[Step] = field(
        default_factory=list
    )  # over the cap, refused or not doable: reported, not run
    question: str | None = None  # set when the planner asks instead of acting
    mode: str = PARTIAL
    planner: str = RULES  # which planner chose the steps: "rules" or "llm"

    def as_record(self) -> list[dict[str, Any]]:
        """The plan as stored beside the message (what ran, what was refused and why)."""
        return [{"tool": s.tool, "args": s.args} for s in self.steps] + [
            {"tool": s.tool, "args": s.args, "refused": s.reason} for s in self.skipped
        ]


def _pick(slots: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {n: slots[n] for n in names if slots.get(n) not in (None, "")}


_TICKET_NUMBER = re.compile(r"(?:ticket|#)\s*#?(\d{1,9})\b", re.IGNORECASE)


def search_terms(slots: dict[str, Any]) -> dict[str, Any]:
    """The NLU's product slots as ``search_products`` arguments.

    The category goes into the text query rather than the exact category filter: the NLU's category
    words ("running shoes") need not be the catalog's category names, and the text search covers
    category names anyway.
    """
    query = slots.get("product") or slots.get("category") or ""
    terms: dict[str, Any] = {"query": str(query)}
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


def _support_steps(name: str, slots: dict[str, Any], text: str) -> list[Step]:
    if name == "support_escalation":
        order_ids = slots.get("order_ids") or slots.get("order_id") or ""
        order = order_ids[0] if isinstance(order_ids, list) and order_ids else str(order_ids or "")
        return [
            Step(name, "open_support_ticket", {"message": text, **({"order_id": order} if order else {})})
        ]
    number = _TICKET_NUMBER.search(text)
    args = {"ticket_id": int(number.group(1))} if number else {}
    return [Step(name, "support_ticket_status" if name == "support_status" else "close_support_ticket", args)]


def _steps_for(intent: IntentResult, text: str = "") -> list[Step]:
    name, slots = intent.name, dict(intent.slots)
    for key in ("size", "color", "brand", "category", "product"):
        if slots.get(key) is not None and not isinstance(slots[key], str):
            slots[key] = str(slots[key])
    if name in SUPPORT_INTENTS:
        return _support_steps(name, slots, text)
    if name == "general_question":
        topic = slots.get("topic")
        return [Step(name, "store_policy", {"question": text, **({"topic": topic} if topic else {})})]
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
        return [Step(name, "search_products", search_terms(slots))]
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


def execution_mode() -> str:
    return ATOMIC if settings.LLM_PLANNER_EXECUTION_MODE == ATOMIC else PARTIAL


def capped(steps: list[Step], cap: int) -> tuple[list[Step], list[Step]]:
    """The steps within the cap, and those over it (each with the reason it is not run)."""
    cap = max(int(cap), 0)
    if not settings.PLANNER_FEATURE_ENABLED:
        cap = min(cap, 1)  # the planner switched off: one action per message, the first
    over = steps[cap:]
    for step in over:
        step.reason = (
            f"Not done: at most {cap} action{'s' if cap != 1 else ''} per message. "
            "Please ask again for the rest."
        )
    return steps[:cap], over


def plan(understanding: Understanding, state: State, text: str = "") -> Plan:
    """The steps for every planned intent of the message, in message order."""
    mode = execution_mode()
    if understanding.confidence < settings.LLM_PLANNER_MIN_CONFIDENCE:
        return Plan(
            question="I'm not sure I understood, so I haven't changed anything. "
            "Could you say it another way?",
            mode=mode,
        )
    steps: list[Step] = []
    for intent in understanding.intents:
        steps.extend(_steps_for(intent, text))
    unsupported = [s for s in steps if not s.tool]
    runnable, over = capped([s for s in steps if s.tool], settings.ORCHESTRATOR_MAX_ACTIONS_PER_REQUEST)
    return Plan(steps=runnable, skipped=unsupported + over, mode=mode)
