"""Understanding + dialogue state -> a Plan: which tools to run, with which arguments, in which mode.

This is the rules planner. The model planner (``model_planner.py``) turns a model's tool calls into the
same :class:`Plan`, and the executor runs both the same way.

The plan is capped at ``ORCHESTRATOR_MAX_ACTIONS_PER_REQUEST`` steps (the rest are reported as
skipped, never silently dropped), gated by ``LLM_PLANNER_MIN_CONFIDENCE`` (below it the plan is a
question and nothing runs) and carries ``LLM_PLANNER_EXECUTION_MODE`` (``partial``: each step on its
own; ``atomic``: all or nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from conversations.assistant.intents import TOOL_INTENTS, Call, spec_for
from conversations.assistant.nlu import IntentResult, Understanding
from conversations.assistant.state import State

PARTIAL = "partial"
ATOMIC = "atomic"

# Every intent that reads or writes the store: each becomes tool steps (``intents.SPECS``).
PLANNED_INTENTS = TOOL_INTENTS
RULES = "rules"
MODEL = "llm"


@dataclass
class Step:
    intent: str  # the Action's type
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # why a step is not run (set on skipped steps and unsupported requests)


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    # over the cap, refused or not doable: reported, not run
    skipped: list[Step] = field(default_factory=list)
    question: str | None = None  # set when the planner asks instead of acting
    mode: str = PARTIAL
    planner: str = RULES  # which planner chose the steps: "rules" or "llm"

    def as_record(self) -> list[dict[str, Any]]:
        """The plan as stored beside the message (what ran, what was refused and why)."""
        return [{"tool": s.tool, "args": s.args} for s in self.steps] + [
            {"tool": s.tool, "args": s.args, "refused": s.reason} for s in self.skipped
        ]


def _steps_for(intent: IntentResult, text: str = "") -> list[Step]:
    """The tool steps of one reading, by its spec; an intent with no tool is reported as not doable."""
    slots = dict(intent.slots)
    for key in ("size", "color", "brand", "category", "product"):
        if slots.get(key) is not None and not isinstance(slots[key], str):
            slots[key] = str(slots[key])
    spec = spec_for(intent.name)
    calls = spec.calls(slots, text) if spec is not None else [Call("", reason="I didn't understand that.")]
    return [Step(intent.name, call.tool, call.args, call.reason) for call in calls]


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
