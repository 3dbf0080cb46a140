"""A fake model vendor at its HTTP edge, for tests: the real ``openai`` and ``anthropic`` SDKs talk to it.

A threaded HTTP server on 127.0.0.1 (an ephemeral port) answers OpenAI ``POST /v1/chat/completions``
and Anthropic ``POST /v1/messages``, as JSON or, when the request asks ``stream: true``, as the vendor's
server-sent events (OpenAI ``chat.completion.chunk`` lines ending in ``[DONE]``; Anthropic's
``message_start``, ``content_block_*``, ``message_delta``, ``message_stop``). Each request takes the next
scripted reply; the replies are vendor-neutral, so one script serves both vendors. Every request body
is kept in ``.requests`` so a test can assert on the tools and messages the store sent.

Scripting (helpers of this module, all keyword-friendly)::

    fake_llm.script(
        text("Here are two lamps."),                                    # plain answer
        tool_calls(call("search_products", {"query": "lamp"})),          # one tool call
        tool_calls(call("a", {}), call("b", {"x": 1}), text="Both."),   # parallel calls, with text
        tool_calls(call("add_to_cart", raw='{"sku": ')),                # invalid JSON arguments
        error(429), error(500), error(529),                             # the vendor's error bodies
        slow(5.0),                                                      # answers after 5 s (timeouts)
        text("Hello there", fail_after_deltas=1),                      # streams 1 delta, then an error event
        text("a b c", chunk_delay=0.2),                                 # slow stream
    )

A request with nothing scripted gets a 500 and is counted in ``.unscripted``.

The ``fake_llm`` fixture (loaded suite-wide by the root conftest) starts the server, points the
settings at it (LLM_ENABLED, OpenAI provider, base URLs and keys for both vendors, LLM_RETRIES=0 so a
script maps one reply to one attempt), resets the circuit breaker and yields the ``FakeLLM``;
``fake_llm.use("anthropic")`` switches the provider (``script_openai(...)`` / ``script_anthropic(...)``
switch and script in one go).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}


@dataclass
class FakeToolCall:
    name: str
    arguments: dict | None = None
    raw: str | None = None  # the argument text exactly as sent; wins over ``arguments`` (invalid JSON)
    id: str | None = None

    def raw_text(self) -> str:
        return self.raw if self.raw is not None else json.dumps(self.arguments or {})


@dataclass
class FakeReply:
    text: str = ""
    tool_calls: list[FakeToolCall] = field(default_factory=list)
    input_tokens: int = 12
    output_tokens: int = 7
    status: int = 200
    error_type: str | None = None
    error_message: str | None = None
    delay: float = 0.0  # seconds before the answer starts
    chunk_delay: float = 0.0  # seconds between streamed events
    deltas: list[str] | None = None  # how the text is split when streamed (default: word by word)
    fail_after_deltas: int | None = None  # streamed: this many text deltas, then the vendor's error event
    stop_reason: str | None = None  # the vendor's own word; default from the content
    without_index: bool = False  # OpenAI stream: tool-call fragments without "index", as some servers send

    def __post_init__(self) -> None:
        if self.deltas is not None and not self.text:
            self.text = "".join(self.deltas)


def call(
    name: str, arguments: dict | None = None, *, raw: str | None = None, id: str | None = None
) -> FakeToolCall:
    return FakeToolCall(name=name, arguments=arguments, raw=raw, id=id)


def text(content: str, **options: Any) -> FakeReply:
    return FakeReply(text=content, **options)


def tool_calls(*calls: FakeToolCall, text: str = "", **options: Any) -> FakeReply:
    return FakeReply(text=text, tool_calls=list(calls), **options)


def error(
    status: int, error_type: str | None = None, message: str | None = None, **options: Any
) -> FakeReply:
    return FakeReply(status=status, error_type=error_type, error_message=message, **options)


def slow(seconds: float, reply: FakeReply | None = None) -> FakeReply:
    reply = reply or text("too late")
    reply.delay = seconds
    return reply


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict

    @property
    def vendor(self) -> str:
        return "anthropic" if self.path == ANTHROPIC_PATH else "openai"


# The vendors' error bodies: (OpenAI type, Anthropic type) for a status.
_ERROR_TYPES = {
    400: ("invalid_request_error", "invalid_request_error"),
    401: ("invalid_request_error", "authentication_error"),
    429: ("rate_limit_exceeded", "rate_limit_error"),
    500: ("server_error", "api_error"),
    503: ("server_error", "api_error"),
    529: ("overloaded_error", "overloaded_error"),
}


def _error_types(reply: FakeReply) -> tuple[str, str]:
    if reply.error_type:
        return reply.error_type, reply.error_type
    return _ERROR_TYPES.get(reply.status if reply.status != 200 else 500, ("server_error", "api_error"))


def _split(reply: FakeReply) -> list[str]:
    if reply.deltas is not None:
        return list(reply.deltas)
    return re.findall(r"\S+\s*|\s+", reply.text)


def _halves(raw: str) -> list[str]:
    """Tool arguments arrive in pieces in a real stream; two pieces exercise the assembly."""
    middle = len(raw) // 2
    return [piece for piece in (raw[:middle], raw[middle:]) if piece]


class _Stop(Exception):
    """The client went away (it timed out) or the server is stopping."""


class FakeLLM:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.unscripted = 0
        self._queue: deque[FakeReply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._settings = None

    # --- scripting -------------------------------------------------------------------------
    def script(self, *replies: FakeReply) -> FakeLLM:
        with self._lock:
            self._queue.extend(replies)
        return self

    def script_openai(self, *replies: FakeReply) -> FakeLLM:
        """Switches the settings to OpenAI and scripts ``replies``."""
        return self.use("openai").script(*replies)

    def script_anthropic(self, *replies: FakeReply) -> FakeLLM:
        """Switches the settings to Anthropic and scripts ``replies``."""
        return self.use("anthropic").script(*replies)

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def bodies(self) -> list[dict]:
        return [request.body for request in self.requests]

    @property
    def last_body(self) -> dict:
        return self.requests[-1].body

    # --- server ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "the fake LLM is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def start(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes: simple streaming

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def use(self, provider: str, model: str | None = None) -> FakeLLM:
        """Switches the settings the fixture set to ``provider`` (and its default model)."""
        assert self._settings is not None, "use() needs the fake_llm fixture"
        self._settings.LLM_PROVIDER = provider
        self._settings.LLM_MODEL = model or DEFAULT_MODELS[provider]
        return self

    # --- answering -------------------------------------------------------------------------
    def _next(self) -> FakeReply | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self._stopping.wait(seconds):
            raise _Stop

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b"{}"
        body = json.loads(raw or b"{}")
        path = handler.path.split("?")[0]
        self.requests.append(RecordedRequest(path, {k.lower(): v for k, v in handler.headers.items()}, body))
        if path not in (OPENAI_PATH, ANTHROPIC_PATH):
            self._send_json(handler, 404, {"error": {"message": f"fake LLM: no route {path}"}})
            return
        reply = self._next()
        if reply is None:
            self.unscripted += 1
            reply = error(500, message="fake LLM: nothing scripted for this request")
        vendor = "anthropic" if path == ANTHROPIC_PATH else "openai"
        try:
            self._wait(reply.delay)
            if reply.status != 200:
                self._send_error(handler, vendor, reply)
            elif body.get("stream"):
                events = (
                    self._anthropic_events(body, reply)
                    if vendor == "anthropic"
                    else self._openai_events(body, reply)
                )
                self._send_stream(handler, reply, events)
            else:
                answer = (
                    self._anthropic_json(body, reply)
                    if vendor == "anthropic"
                    else self._openai_json(body, reply)
                )
                self._send_json(handler, 200, answer)
        except (_Stop, BrokenPipeError, ConnectionResetError):
            pass

    def _send_json(self, handler: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("request-id", f"req_fake_{next(self._ids)}")
        handler.end_headers()
        handler.wfile.write(data)

    def _send_error(self, handler: BaseHTTPRequestHandler, vendor: str, reply: FakeReply) -> None:
        openai_type, anthropic_type = _error_types(reply)
        message = reply.error_message or f"fake LLM error {reply.status}"
        if vendor == "anthropic":
            payload = {"type": "error", "error": {"type": anthropic_type, "message": message}}
        else:
            payload = {"error": {"message": message, "type": openai_type, "param": None, "code": None}}
        self._send_json(handler, reply.status, payload)

    def _send_stream(
        self, handler: BaseHTTPRequestHandler, reply: FakeReply, events: Iterator[bytes]
    ) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        for index, event in enumerate(events):
            if index:
                self._wait(reply.chunk_delay)
            handler.wfile.write(event)
            handler.wfile.flush()

    # --- OpenAI ----------------------------------------------------------------------------
    def _call_id(self, fake_call: FakeToolCall, prefix: str) -> str:
        return fake_call.id or f"{prefix}{next(self._ids)}"

    @staticmethod
    def _openai_finish(reply: FakeReply) -> str:
        return reply.stop_reason or ("tool_calls" if reply.tool_calls else "stop")

    @staticmethod
    def _openai_usage(reply: FakeReply) -> dict:
        return {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        }

    def _openai_json(self, body: dict, reply: FakeReply) -> dict:
        message: dict = {"role": "assistant", "content": reply.text or None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": self._call_id(c, "call_"),
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.raw_text()},
                }
                for c in reply.tool_calls
            ]
        return {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": message, "finish_reason": self._openai_finish(reply)}],
            "usage": self._openai_usage(reply),
        }

    def _openai_events(self, body: dict, reply: FakeReply) -> Iterator[bytes]:
        base = {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", ""),
        }

        def chunk(delta: dict, finish: str | None = None) -> bytes:
            payload = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(payload)}\n\n".encode()

        yield chunk({"role": "assistant", "content": ""})
        pieces = _split(reply)
        for piece in pieces if reply.fail_after_deltas is None else pieces[: reply.fail_after_deltas]:
            yield chunk({"content": piece})
        if reply.fail_after_deltas is not None:
            yield self._openai_stream_error(reply)
            return
        for index, c in enumerate(reply.tool_calls):
            place = {} if reply.without_index else {"index": index}
            head = {**place, "id": self._call_id(c, "call_"), "type": "function"}
            yield chunk({"tool_calls": [{**head, "function": {"name": c.name, "arguments": ""}}]})
            for piece in _halves(c.raw_text()):
                yield chunk({"tool_calls": [{**place, "function": {"arguments": piece}}]})
        yield chunk({}, self._openai_finish(reply))
        if (body.get("stream_options") or {}).get("include_usage"):
            payload = {**base, "choices": [], "usage": self._openai_usage(reply)}
            yield f"data: {json.dumps(payload)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    def _openai_stream_error(self, reply: FakeReply) -> bytes:
        openai_type, _ = _error_types(reply)
        payload = {"error": {"message": reply.error_message or "fake LLM stream error", "type": openai_type}}
        return f"data: {json.dumps(payload)}\n\n".encode()

    # --- Anthropic -------------------------------------------------------------------------
    @staticmethod
    def _anthropic_stop(reply: FakeReply) -> str:
        return reply.stop_reason or ("tool_use" if reply.tool_calls else "end_turn")

    @staticmethod
    def _anthropic_input(fake_call: FakeToolCall) -> Any:
        # The real API always sends an object; an invalid raw text is passed on as a string so the
        # client's handling of a non-object input can be tested.
        try:
            return json.loads(fake_call.raw_text())
        except ValueError:
            return fake_call.raw_text()

    def _anthropic_json(self, body: dict, reply: FakeReply) -> dict:
        content: list[dict] = [{"type": "text", "text": reply.text}] if reply.text else []
        content += [
            {
                "type": "tool_use",
                "id": self._call_id(c, "toolu_"),
                "name": c.name,
                "input": self._anthropic_input(c),
            }
            for c in reply.tool_calls
        ]
        return {
            "id": f"msg_fake{next(self._ids)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", ""),
            "content": content,
            "stop_reason": self._anthropic_stop(reply),
            "stop_sequence": None,
            "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
        }

    @staticmethod
    def _sse(name: str, payload: dict) -> bytes:
        return f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()

    def _anthropic_events(self, body: dict, reply: FakeReply) -> Iterator[bytes]:
        sse = self._sse
        message = {
            "id": f"msg_fake{next(self._ids)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", ""),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": reply.input_tokens, "output_tokens": 1},
        }
        yield sse("message_start", {"type": "message_start", "message": message})
        index = 0
        if reply.text or reply.fail_after_deltas is not None:
            block: dict[str, Any] = {"type": "text", "text": ""}
            yield sse(
                "content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}
            )
            yield sse("ping", {"type": "ping"})
            pieces = _split(reply)
            for piece in pieces if reply.fail_after_deltas is None else pieces[: reply.fail_after_deltas]:
                delta = {"type": "text_delta", "text": piece}
                yield sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
            if reply.fail_after_deltas is not None:
                _, anthropic_type = _error_types(reply)
                error_body = {
                    "type": anthropic_type,
                    "message": reply.error_message or "fake LLM stream error",
                }
                yield sse("error", {"type": "error", "error": error_body})
                return
            yield sse("content_block_stop", {"type": "content_block_stop", "index": 0})
            index = 1
        for c in reply.tool_calls:
            block = {"type": "tool_use", "id": self._call_id(c, "toolu_"), "name": c.name, "input": {}}
            yield sse(
                "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}
            )
            for piece in _halves(c.raw_text()):
                delta = {"type": "input_json_delta", "partial_json": piece}
                yield sse(
                    "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
                )
            yield sse("content_block_stop", {"type": "content_block_stop", "index": index})
            index += 1
        yield sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": self._anthropic_stop(reply), "stop_sequence": None},
                "usage": {"output_tokens": reply.output_tokens},
            },
        )
        yield sse("message_stop", {"type": "message_stop"})


@pytest.fixture
def fake_llm(settings) -> Iterator[FakeLLM]:
    """A running fake vendor with the settings pointed at it (OpenAI first; ``.use("anthropic")``)."""
    from conversations.assistant.llm import reset_breaker
    from conversations.assistant.llm.port import forget_clients

    fake = FakeLLM().start()
    fake._settings = settings
    settings.LLM_ENABLED = True
    settings.LLM_RETRIES = 0
    settings.OPENAI_API_KEY = "sk-fake"
    settings.OPENAI_BASE_URL = fake.openai_base_url
    settings.ANTHROPIC_API_KEY = "sk-ant-fake"
    settings.ANTHROPIC_BASE_URL = fake.anthropic_base_url
    fake.use("openai")
    reset_breaker()
    try:
        yield fake
    finally:
        fake.stop()
        forget_clients()
        reset_breaker()
