"""Anthropic Messages with tool use through the official SDK."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
from django.conf import settings

from .types import ChatMessage, ToolCall, ToolSpec, Usage
from .vendor import Completion, SdkClients, VendorRequest, map_sdk_error, stop_reason, vendor_exceptions

NAME = "anthropic"
# A gateway at ANTHROPIC_BASE_URL may take no key, but the SDK refuses to start without one.
PLACEHOLDER_KEY = "not-needed"

_clients = SdkClients(anthropic.Anthropic)


def configured() -> bool:
    return bool(settings.ANTHROPIC_API_KEY or settings.ANTHROPIC_BASE_URL)


def _client() -> anthropic.Anthropic:
    return _clients.get(
        settings.ANTHROPIC_API_KEY or PLACEHOLDER_KEY,
        settings.ANTHROPIC_BASE_URL,
        settings.LLM_TIMEOUT_SECONDS,
    )


def forget_clients() -> None:
    _clients.forget()


def _tool(spec: ToolSpec) -> dict[str, Any]:
    return {"name": spec.name, "description": spec.description, "input_schema": spec.parameters}


def _blocks(message: ChatMessage) -> tuple[str, list[dict[str, Any]]]:
    if message.role == "tool":
        return "user", [
            {"type": "tool_result", "tool_use_id": message.tool_call_id or "", "content": message.content}
        ]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
    if message.role == "assistant":
        blocks += [
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments or {}}
            for call in message.tool_calls
        ]
        return "assistant", blocks
    return "user", blocks


def _messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Our history as Messages turns: tool results become ``tool_result`` blocks of a user turn, and
    consecutive turns of one role are merged (the API expects user and assistant to alternate)."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        role, blocks = _blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def _params(request: VendorRequest) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "system": request.system,
        "messages": _messages(request.messages),
    }
    # No temperature: the Messages API of the pinned SDK has no sampling parameters any more.
    if request.tools:
        params["tools"] = [_tool(spec) for spec in request.tools]
        params["tool_choice"] = {"type": "auto"}
    return params


def _tool_call(id: str, name: str, value: object) -> ToolCall:
    if isinstance(value, dict):
        return ToolCall(id=id, name=name, arguments=value, raw_arguments=json.dumps(value))
    raw = value if isinstance(value, str) else json.dumps(value)
    return ToolCall.from_raw(id=id, name=name, raw_arguments=raw)


def _whole(request: VendorRequest) -> Completion:
    response = _client().messages.create(**_params(request), timeout=request.time_left())
    text = [block.text for block in response.content if block.type == "text"]
    uses = [block for block in response.content if block.type == "tool_use"]
    calls = [_tool_call(block.id, block.name, block.input) for block in uses]
    usage = Usage(response.usage.input_tokens or 0, response.usage.output_tokens or 0)
    return Completion("".join(text), calls, usage, stop_reason(response.stop_reason, bool(calls)))


def _streamed(request: VendorRequest, on_delta: Callable[[str], None]) -> Completion:
    stream = _client().messages.create(**_params(request), stream=True, timeout=request.time_left())
    text: list[str] = []
    blocks: dict[int, dict[str, Any]] = {}
    usage = Usage()
    finish: str | None = None
    with stream:
        for event in stream:
            request.check_deadline()
            if event.type == "message_start":
                start = event.message.usage
                usage = Usage(start.input_tokens or 0, start.output_tokens or 0)
            elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                block = event.content_block
                blocks[event.index] = {"id": block.id, "name": block.name, "json": []}
            elif event.type == "content_block_delta":
                delta = event.delta
                if delta.type == "text_delta" and delta.text:
                    text.append(delta.text)
                    on_delta(delta.text)
                elif delta.type == "input_json_delta" and event.index in blocks:
                    blocks[event.index]["json"].append(delta.partial_json)
            elif event.type == "message_delta":
                finish = event.delta.stop_reason or finish
                # The final counts are cumulative; input_tokens is there only on newer API versions.
                usage.output_tokens = event.usage.output_tokens or usage.output_tokens
                usage.input_tokens = getattr(event.usage, "input_tokens", None) or usage.input_tokens
    calls = [
        ToolCall.from_raw(id=block["id"], name=block["name"], raw_arguments="".join(block["json"]))
        for _, block in sorted(blocks.items())
    ]
    return Completion("".join(text), calls, usage, stop_reason(finish, bool(calls)))


def complete(request: VendorRequest) -> Completion:
    try:
        return _streamed(request, request.on_delta) if request.on_delta is not None else _whole(request)
    except vendor_exceptions(anthropic) as exc:
        raise map_sdk_error(exc, anthropic) from exc
