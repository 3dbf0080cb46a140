"""Runs a Plan: each step calls its tool; confirm=True tools wait for a "yes"; every step is an Action.

Plans from the rules and from a model run the same way here. Before any tool is called its arguments
are validated against the tool's JSON Schema; an unknown tool or invalid arguments are refused with a
reason (a failed Action), never called. A confirm=True tool never runs on the step that proposes it: its
``prepare`` step checks and resolves the arguments, the question is asked, and only :func:`confirm_pending`
-- reached solely by the shopper's own "yes" in a later message -- runs it.

``partial`` mode runs each step on its own (one failing step does not undo the others); ``atomic``
runs them inside one ``transaction.atomic()`` and rolls everything back -- cart rows and dialogue
state alike -- when any step does not succeed, reporting every step as failed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from carts.models import Cart
from conversations.assistant.planner import ATOMIC, Plan, Step
from conversations.assistant.reply import FAILED, NEEDS_CONFIRMATION, SKIPPED, SUCCEEDED, Link, action
from conversations.assistant.state import State
from conversations.assistant.tools import REGISTRY, InvalidArguments, ToolContext, ToolResult, validated_args

CONFIRM_QUESTIONS = {
    "clear_cart": "This will remove everything from your cart. Shall I go ahead? (yes / no)",
}


@dataclass
class Execution:
    actions: list[dict[str, str]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    cart: Cart | None = None
    cart_touched: bool = False
    cart_loaded: bool = False  # ``cart`` is current and loaded with its lines (see ToolResult.cart_loaded)
    # per action, in order: what the shopper was told and the products shown (a model's tool results)
    step_texts: list[str] = field(default_factory=list)
    step_products: list[list[dict[str, Any]]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(t for t in self.texts if t)

    def add(self, intent: str, result: ToolResult) -> None:
        self.actions.append(action(intent, result.status, result.detail))
        self.step_texts.append(result.message)
        self.step_products.append(list(result.products))
        self.texts.append(result.message)
        self.products.extend(result.products)
        self.links.extend(result.links)
        for s in result.suggestions:
            if s not in self.suggestions:
                self.suggestions.append(s)
        if result.cart is not None:
            self.cart, self.cart_touched, self.cart_loaded = result.cart, True, result.cart_loaded


class _RolledBack(Exception):
    """Raised inside the atomic block to undo every step of the plan."""


def _refused(reason: str) -> ToolResult:
    return ToolResult(FAILED, f"Refused: {reason}", text="I couldn't do that, so I haven't changed anything.")


def refusal(step: Step) -> str | None:
    """Why a step cannot run as proposed (unknown tool, arguments outside its schema), or None."""
    tool = REGISTRY.get(step.tool)
    if tool is None:
        return f"there is no tool called {step.tool!r}."
    try:
        validated_args(tool, step.args)
    except InvalidArguments as exc:
        return exc.reason
    return None


def _run_step(ctx: ToolContext, step: Step, *, confirmed: bool = False) -> ToolResult:
    tool = REGISTRY.get(step.tool)
    if tool is None:
        return _refused(f"there is no tool called {step.tool!r}.")
    try:
        step_args = validated_args(tool, step.args)
    except InvalidArguments as exc:
        return _refused(exc.reason)
    if tool.confirm and not confirmed:
        args = step_args
        question = None
        if tool.prepare is not None:
            preview = tool.prepare(ctx, **args)
            if isinstance(preview, ToolResult):  # cannot be done (not found, not allowed): said at once
                return preview
            args, question = preview.args, preview.question
        ctx.state.pending_confirmation = {"intent": step.intent, "tool": step.tool, "args": args}
        question = question or CONFIRM_QUESTIONS.get(
            step.tool, f"Shall I go ahead with {step.intent.replace('_', ' ')}? (yes / no)"
        )
        return ToolResult(
            NEEDS_CONFIRMATION, f"Waiting for a yes to {step.tool.replace('_', ' ')}.", text=question
        )
    return tool(ctx, **step_args)


def _state_snapshot(state: State) -> dict[str, Any]:
    return copy.deepcopy(vars(state))


def execute(plan: Plan, ctx: ToolContext) -> Execution:
    out = Execution()
    if plan.question:
        out.texts.append(plan.question)
        return out
    if plan.mode == ATOMIC and len(plan.steps) > 1:
        _execute_atomic(plan, ctx, out)
    else:
        for step in plan.steps:
            out.add(step.intent, _run_step(ctx, step))
    for step in plan.skipped:
        out.add(step.intent, ToolResult(SKIPPED, step.reason))
    return out


def _execute_atomic(plan: Plan, ctx: ToolContext, out: Execution) -> None:
    before = _state_snapshot(ctx.state)
    results: list[tuple[Step, ToolResult]] = []
    try:
        with transaction.atomic():
            for step in plan.steps:
                result = _run_step(ctx, step)
                results.append((step, result))
                if result.status != SUCCEEDED:
                    raise _RolledBack
    except _RolledBack:
        for name, value in before.items():
            setattr(ctx.state, name, value)
        failing = results[-1][1]
        reason = failing.message
        out.texts.append(f"I couldn't do all of that, so I did none of it: {reason}")
        for step in plan.steps:
            out.actions.append(action(step.intent, FAILED, f"Rolled back (all or nothing): {reason}"))
            out.step_texts.append(f"Rolled back (all or nothing): {reason}")
            out.step_products.append([])
        return
    for step, result in results:
        out.add(step.intent, result)


def confirm_pending(ctx: ToolContext) -> Execution:
    """ "yes": runs the step that was waiting for it."""
    pending = ctx.state.pending_confirmation or {}
    ctx.state.pending_confirmation = None
    out = Execution()
    step = Step(pending.get("intent", "confirm"), pending.get("tool", ""), dict(pending.get("args") or {}))
    out.add(step.intent, _run_step(ctx, step, confirmed=True))
    return out


def deny_pending(ctx: ToolContext) -> Execution:
    """ "no": the waiting step is dropped and nothing changes."""
    pending = ctx.state.pending_confirmation or {}
    ctx.state.pending_confirmation = None
    out = Execution()
    intent = pending.get("intent", "deny")
    out.add(
        intent,
        ToolResult(
            SKIPPED, "The shopper said no; nothing was changed.", text="OK, I haven't changed anything."
        ),
    )
    return out


def complete_clarification(ctx: ToolContext, slots: dict[str, Any]) -> Execution | None:
    """The answer to "which size?" / "which one?": re-runs the waiting tool with it, or None if no answer."""
    pending = ctx.state.pending_clarification or {}
    slot = pending.get("slot")
    args = dict(pending.get("args") or {})
    if slot == "size":
        value = slots.get("size") or (str(slots["quantity"]) if slots.get("quantity") is not None else None)
        if value is None:
            return None
        args["size"] = str(value)
        if slots.get("color"):
            args["color"] = slots["color"]
    elif slot == "color":
        if not slots.get("color"):
            return None
        args["color"] = slots["color"]
        if slots.get("size"):
            args["size"] = str(slots["size"])
    elif slot == "product":
        if slots.get("ordinal") is None:
            return None
        args["ordinal"] = slots["ordinal"]
        args.pop("product_id", None)
        for key in ("size", "color"):
            if slots.get(key):
                args[key] = str(slots[key])
    else:
        return None
    args = {k: v for k, v in args.items() if v is not None}
    ctx.state.pending_clarification = None
    out = Execution()
    step = Step(pending.get("intent", "add_to_cart"), pending.get("tool", "add_to_cart"), args)
    out.add(step.intent, _run_step(ctx, step))
    return out
