"""The model-provider port of the assistant: OpenAI (Chat Completions + tools) and Anthropic (Messages +
tool use) behind one call, with the timeout, the shared circuit breaker, the daily token budget,
metrics and a cost estimate. The model only *proposes* tool calls; the executor decides. docs/llm.md.
"""

from .breaker import breaker_state, reset_breaker
from .budget import tokens_used_today
from .metrics import record_fallback
from .port import call_model, estimate_cost, llm_configured, llm_status
from .types import ChatMessage, LLMError, ModelTurn, ToolCall, ToolSpec, Usage

__all__ = [
    "ChatMessage",
    "LLMError",
    "ModelTurn",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "breaker_state",
    "call_model",
    "estimate_cost",
    "llm_configured",
    "llm_status",
    "record_fallback",
    "reset_breaker",
    "tokens_used_today",
]
