"""What both provider adapters share: the request they get, the completion they return, the deadline,
and how a vendor's failure becomes an ``LLMError`` kind."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Generic, Protocol, TypeVar

import httpx2

from .types import ChatMessage, LLMError, ToolCall, ToolSpec, Usage


class _SdkClient(Protocol):
    def close(self) -> None: ...


_Client = TypeVar("_Client", bound=_SdkClient)


class SdkClients(Generic[_Client]):
    """One SDK client (one connection pool) per API key and base URL, built by ``sdk_class`` with the
    SDK's own retries off: call_model retries within LLM_TIMEOUT_SECONDS itself."""

    def __init__(self, sdk_class: Callable[..., _Client]) -> None:
        self._sdk_class = sdk_class
        self._clients: dict[tuple[str, str], _Client] = {}
        self._lock = threading.Lock()

    def get(self, api_key: str, base_url: str, timeout: float) -> _Client:
        with self._lock:
            client = self._clients.get((api_key, base_url))
            if client is None:
                client = self._sdk_class(
                    api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=0
                )
                self._clients[(api_key, base_url)] = client
            return client

    def forget(self) -> None:
        """Closes and drops the clients (tests point the base URL at a new fake server each time)."""
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


@dataclass
class VendorRequest:
    system: str
    messages: list[ChatMessage]
    tools: list[ToolSpec]
    model: str
    max_tokens: int
    temperature: float
    deadline: float  # time.monotonic() by which the call must be over
    on_delta: Callable[[str], None] | None = None

    def time_left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise LLMError("timeout", "no time left for the model call")
        return left

    def check_deadline(self) -> None:
        """Between stream events: the SDK's timeout bounds each read, this bounds the whole stream."""
        if time.monotonic() >= self.deadline:
            raise LLMError("timeout", "the model's stream ran past LLM_TIMEOUT_SECONDS")


@dataclass
class Completion:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    stop_reason: str = "end"


_STOP_REASONS = {
    "stop": "end",
    "end_turn": "end",
    "stop_sequence": "end",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "tool_use": "tool_calls",
    "length": "max_tokens",
    "max_tokens": "max_tokens",
}


def stop_reason(vendor_reason: str | None, has_tool_calls: bool) -> str:
    if vendor_reason is None:
        return "tool_calls" if has_tool_calls else "end"
    return _STOP_REASONS.get(vendor_reason, vendor_reason)


def _error_type(body: object) -> str | None:
    """The vendor's error type from an error body: OpenAI ``{"error": {"type"}}`` or the inner object,
    Anthropic ``{"type": "error", "error": {"type"}}``."""
    if not isinstance(body, dict):
        return None
    inner = body.get("error")
    if isinstance(inner, dict):
        return inner.get("type") or inner.get("code")
    kind = body.get("type")
    return kind if kind != "error" else None


def kind_for_status(status: int | None, body: object) -> str:
    error_type = _error_type(body) or ""
    if status == 529 or "overloaded" in error_type:
        return "overloaded"
    if status == 429 or "rate_limit" in error_type:
        return "rate_limited"
    if status in (401, 403) or error_type in ("authentication_error", "permission_error"):
        return "auth"
    if status == 408 or error_type == "timeout_error":
        return "timeout"
    if status is None or status >= 500 or status < 400:
        # No status, or an error event inside a 200 stream: the vendor failed mid-answer.
        return "server_error"
    return "bad_response"


def map_sdk_error(exc: Exception, sdk: ModuleType) -> LLMError:
    """Turns an exception of the ``openai`` or ``anthropic`` SDK (passed as ``sdk``) or of its HTTP
    client, as caught by :func:`vendor_exceptions`, into an ``LLMError``."""
    if isinstance(exc, sdk.APITimeoutError | httpx2.TimeoutException):
        return LLMError("timeout", str(exc))
    if isinstance(exc, sdk.APIConnectionError | httpx2.TransportError | httpx2.StreamError):
        return LLMError("connection", str(exc))
    if isinstance(exc, sdk.APIResponseValidationError):
        return LLMError("bad_response", str(exc))
    if isinstance(exc, sdk.APIStatusError):
        return LLMError(kind_for_status(exc.status_code, exc.body), str(exc))
    if isinstance(exc, sdk.APIError):
        return LLMError(kind_for_status(None, exc.body), str(exc))
    # vendor_exceptions catches nothing else; were it widened, an unknown failure is still no answer.
    return LLMError("bad_response", str(exc))


def vendor_exceptions(sdk: ModuleType) -> tuple[type[Exception], ...]:
    return (sdk.APIError, httpx2.TransportError, httpx2.StreamError)
