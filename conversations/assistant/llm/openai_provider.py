"""OpenAI Chat Completions with ``tools`` through the official SDK; the same API vLLM, Ollama and
llama.cpp's server speak, so ``OPENAI_BASE_URL`` can point at a local model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
from django.conf import settings
from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall
from openai.types.completion_usage import CompletionUsage

from .types import ChatMessage, LLMError, ToolCall, ToolSpec, Usage
from .vendor import Completion, SdkClients, VendorRequest, map_sdk_error, stop_reason, vendor_exceptions

NAME = "openai"
# Local OpenAI-compatible servers take no key, but the SDK refuses to start without one.
PLACEHOLDER_KEY = "not-needed"

_clients = SdkClients(openai.OpenAI)


def configured() -> bool:
    return bool(settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL)


def _client() -> openai.OpenAI:
    return _clients.get(
        settings.OPENAI_API_KEY or PLACEHOLDER_KEY, settings.OPENAI_BASE_URL, settings.LLM_TIMEOUT_SECONDS
    )


def forget_clients() -> None:
    _clients.forget()


def _tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": spec.name, "description": spec.description, "parameters": spec.parameters},
    }


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.raw_arguments},
                }
                for call in message.tool_calls
            ],
        }
    return {"role": message.role, "content": message.content}


def _params(request: VendorRequest) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": "system", "content": request.system}] + [_message(m) for m in request.messages],
        "temperature": request.temperature,
    }
    # OpenAI's newer models refuse max_tokens; OpenAI-compatible local servers know only max_tokens.
    params["max_tokens" if settings.OPENAI_BASE_URL else "max_completion_tokens"] = request.max_tokens
    if request.tools:
        params["tools"] = [_tool(spec) for spec in request.tools]
        params["tool_choice"] = "auto"
    return params


def _usage(usage: CompletionUsage | None) -> Usage:
    if usage is None:
        return Usage()
    return Usage(input_tokens=usage.prompt_tokens or 0, output_tokens=usage.completion_tokens or 0)


def _whole(request: VendorRequest) -> Completion:
    response = _client().chat.completions.create(**_params(request), timeout=request.time_left())
    if not response.choices:
        raise LLMError("bad_response", "the completion has no choices")
    choice = response.choices[0]
    calls = [
        ToolCall.from_raw(id=call.id, name=call.function.name, raw_arguments=call.function.arguments or "")
        for call in choice.message.tool_calls or []
        if getattr(call, "function", None) is not None
    ]
    return Completion(
        text=choice.message.content or "",
        tool_calls=calls,
        usage=_usage(response.usage),
        stop_reason=stop_reason(choice.finish_reason, bool(calls)),
    )


def _index(fragment: ChoiceDeltaToolCall, calls: dict[int, dict[str, Any]]) -> int:
    """The call a fragment belongs to. Some compatible servers leave out ``index``: then a fragment
    with a new id starts a call and one without continues the last."""
    if fragment.index is not None:
        return fragment.index
    if fragment.id and all(slot["id"] != fragment.id for slot in calls.values()):
        return len(calls)
    return max(calls, default=0)


def _streamed(request: VendorRequest, on_delta: Callable[[str], None]) -> Completion:
    stream = _client().chat.completions.create(
        **_params(request),
        stream=True,
        stream_options={"include_usage": True},
        timeout=request.time_left(),
    )
    text: list[str] = []
    # Tool calls arrive as fragments keyed by index: id and name first, then pieces of the arguments.
    calls: dict[int, dict[str, Any]] = {}
    usage = Usage()
    finish: str | None = None
    with stream:
        for chunk in stream:
            request.check_deadline()
            if chunk.usage is not None:
                usage = _usage(chunk.usage)
            for choice in chunk.choices:
                delta = choice.delta
                if delta is not None and delta.content:
                    text.append(delta.content)
                    on_delta(delta.content)
                for fragment in (delta.tool_calls if delta is not None else None) or []:
                    slot = calls.setdefault(_index(fragment, calls), {"id": "", "name": "", "arguments": []})
                    if fragment.id:
                        slot["id"] = fragment.id
                    if fragment.function is not None:
                        if fragment.function.name:
                            slot["name"] = fragment.function.name
                        if fragment.function.arguments:
                            slot["arguments"].append(fragment.function.arguments)
                if choice.finish_reason:
                    finish = choice.finish_reason
    tool_calls = [
        ToolCall.from_raw(
            id=slot["id"] or f"call_{index}", name=slot["name"], raw_arguments="".join(slot["arguments"])
        )
        for index, slot in sorted(calls.items())
    ]
    return Completion("".join(text), tool_calls, usage, stop_reason(finish, bool(tool_calls)))


def complete(request: VendorRequest) -> Completion:
    try:
        return _streamed(request, request.on_delta) if request.on_delta is not None else _whole(request)
    except vendor_exceptions(openai) as exc:
        raise map_sdk_error(exc, openai) from exc
