"""The provider port's data types: what the assistant sends a model and what comes back, vendor-neutral."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Failures of the vendor itself: they count against the circuit breaker and may be retried.
VENDOR_FAILURE_KINDS = frozenset({"timeout", "rate_limited", "overloaded", "server_error", "connection"})
ERROR_KINDS = VENDOR_FAILURE_KINDS | {
    "disabled",
    "not_configured",
    "circuit_open",
    "budget_exceeded",
    "auth",
    "bad_response",
}


@dataclass(frozen=True)
class ToolSpec:
    """One tool the model may call; ``parameters`` is a JSON Schema of type object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class ToolCall:
    """A tool call the model proposed. ``arguments`` is None and ``error`` says why when the model's
    argument text was not a JSON object; ``raw_arguments`` is always the text as the model wrote it."""

    id: str
    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str
    error: str | None = None

    @classmethod
    def from_raw(cls, *, id: str, name: str, raw_arguments: str) -> ToolCall:
        # Some servers send "" for a call without arguments: that is an empty object, not an error.
        text = raw_arguments if raw_arguments.strip() else "{}"
        try:
            value = json.loads(text)
        except ValueError as exc:
            return cls(id, name, None, raw_arguments, f"arguments are not valid JSON: {exc}")
        if not isinstance(value, dict):
            return cls(id, name, None, raw_arguments, "arguments are not a JSON object")
        return cls(id, name, value, raw_arguments)


@dataclass
class ChatMessage:
    """One turn of the conversation as the model sees it. ``role`` is "user", "assistant" (with the
    tool calls it made, if any) or "tool" (one tool's result, for ``tool_call_id``)."""

    role: str
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class ModelTurn:
    """One answer of the model. ``stop_reason`` is "end", "tool_calls", "max_tokens" or the vendor's own
    word for anything else; ``cost`` is the estimate in US dollars from the price settings."""

    text: str
    tool_calls: list[ToolCall]
    usage: Usage
    model: str
    provider: str
    latency_ms: float
    stop_reason: str
    cost: Decimal


class LLMError(Exception):
    """Why a model call gave no turn. ``kind`` is one of ``ERROR_KINDS``; the caller falls back to rules."""

    def __init__(self, kind: str, message: str = "") -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown LLMError kind {kind!r}")
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.message = message

    @property
    def is_vendor_failure(self) -> bool:
        return self.kind in VENDOR_FAILURE_KINDS
