"""The model providers through the real ``openai`` and ``anthropic`` SDKs against the fake vendor (HTTP)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from commerce.testing.fake_llm import call, error, slow, text, tool_calls
from conversations.assistant.llm import ChatMessage, LLMError, ToolCall, ToolSpec, call_model

PROVIDERS = ["openai", "anthropic"]

SEARCH = ToolSpec(
    name="search_products",
    description="Search the catalog.",
    parameters={"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
)
ADD = ToolSpec(
    name="add_to_cart",
    description="Add a product to the cart.",
    parameters={
        "type": "object",
        "properties": {"product_id": {"type": "integer"}, "quantity": {"type": "integer"}},
        "required": ["product_id"],
    },
)


def ask(content: str = "find me a lamp", **options) -> object:
    options.setdefault("tools", [SEARCH, ADD])
    options.setdefault("budget_key", "session:test")
    return call_model(
        system="You are the store's assistant.", messages=[ChatMessage("user", content)], **options
    )


@pytest.fixture(params=PROVIDERS)
def vendor(request, fake_llm):
    """The fake vendor with the settings on one provider; the test runs once per provider."""
    return fake_llm.use(request.param)


def sent_tool_names(body: dict, provider: str) -> list[str]:
    if provider == "openai":
        return [tool["function"]["name"] for tool in body["tools"]]
    return [tool["name"] for tool in body["tools"]]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_single_tool_call_comes_back_parsed(vendor, settings, stream):
    vendor.script(tool_calls(call("search_products", {"query": "desk lamp"})))
    deltas: list[str] = []

    turn = ask(on_delta=deltas.append if stream else None)

    assert [(c.name, c.arguments, c.error) for c in turn.tool_calls] == [
        ("search_products", {"query": "desk lamp"}, None)
    ]
    assert turn.tool_calls[0].id
    assert turn.stop_reason == "tool_calls"
    assert turn.provider == settings.LLM_PROVIDER
    assert turn.model == settings.LLM_MODEL
    assert (turn.usage.input_tokens, turn.usage.output_tokens) == (12, 7)
    body = vendor.last_body
    assert body["model"] == settings.LLM_MODEL
    assert bool(body.get("stream")) is stream
    assert sent_tool_names(body, settings.LLM_PROVIDER) == ["search_products", "add_to_cart"]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_parallel_tool_calls_arrive_in_order_with_their_text(vendor, stream):
    vendor.script(
        tool_calls(
            call("search_products", {"query": "lamp"}),
            call("add_to_cart", {"product_id": 7, "quantity": 2}),
            text="Doing both.",
        )
    )
    deltas: list[str] = []

    turn = ask(on_delta=deltas.append if stream else None)

    assert [(c.name, c.arguments) for c in turn.tool_calls] == [
        ("search_products", {"query": "lamp"}),
        ("add_to_cart", {"product_id": 7, "quantity": 2}),
    ]
    assert len({c.id for c in turn.tool_calls}) == 2
    assert turn.text == "Doing both."
    if stream:
        assert "".join(deltas) == "Doing both."


def test_streamed_tool_calls_without_index_are_still_told_apart(fake_llm):
    fake_llm.script(tool_calls(call("a", {"x": 1}), call("b", {"y": 2}), without_index=True))

    turn = ask(on_delta=lambda _d: None)

    assert [(c.name, c.arguments) for c in turn.tool_calls] == [("a", {"x": 1}), ("b", {"y": 2})]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("raw", ['{"query": "lamp"', "[1, 2]", "not json"])
def test_arguments_that_are_not_a_json_object_give_a_tool_call_error(vendor, stream, raw):
    vendor.script(tool_calls(call("search_products", raw=raw), call("add_to_cart", {"product_id": 3})))

    turn = ask(on_delta=(lambda _d: None) if stream else None)

    broken, fine = turn.tool_calls
    assert broken.name == "search_products"
    assert broken.arguments is None
    assert broken.error
    assert broken.raw_arguments == raw
    assert (fine.arguments, fine.error) == ({"product_id": 3}, None)


def test_openai_tool_results_go_back_in_the_next_request(fake_llm):
    fake_llm.script(
        tool_calls(call("search_products", {"query": "lamp"}, id="call_1")), text("The Arc lamp is $40.")
    )
    history = [ChatMessage("user", "find me a lamp")]
    first = call_model(system="Be brief.", messages=history, tools=[SEARCH], budget_key="user:1")
    history += [
        ChatMessage("assistant", first.text, tool_calls=first.tool_calls),
        ChatMessage("tool", '{"products": [{"id": 5, "name": "Arc lamp"}]}', tool_call_id="call_1"),
    ]

    second = call_model(system="Be brief.", messages=history, tools=[SEARCH], budget_key="user:1")

    assert second.text == "The Arc lamp is $40."
    assert second.stop_reason == "end"
    messages = fake_llm.last_body["messages"]
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert messages[1] == {"role": "user", "content": "find me a lamp"}
    assert messages[2]["role"] == "assistant"
    assert messages[2]["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "search_products", "arguments": '{"query": "lamp"}'},
        }
    ]
    assert messages[3] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"products": [{"id": 5, "name": "Arc lamp"}]}',
    }
    assert fake_llm.last_body["tool_choice"] == "auto"


def test_anthropic_tool_results_go_back_as_tool_result_blocks(fake_llm):
    fake_llm.use("anthropic").script(
        tool_calls(
            call("search_products", {"query": "lamp"}, id="toolu_1"), call("add_to_cart", {"product_id": 5})
        ),
        text("Added."),
    )
    history = [ChatMessage("user", "lamp, and add it")]
    first = call_model(system="Be brief.", messages=history, tools=[SEARCH, ADD], budget_key="user:1")
    history += [
        ChatMessage("assistant", "", tool_calls=first.tool_calls),
        ChatMessage("tool", "found 1", tool_call_id=first.tool_calls[0].id),
        ChatMessage("tool", "added", tool_call_id=first.tool_calls[1].id),
    ]

    call_model(system="Be brief.", messages=history, tools=[SEARCH, ADD], budget_key="user:1")

    body = fake_llm.last_body
    assert body["system"] == "Be brief."
    assert body["tools"][0] == {
        "name": "search_products",
        "description": "Search the catalog.",
        "input_schema": SEARCH.parameters,
    }
    assert body["tool_choice"] == {"type": "auto"}
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "search_products", "input": {"query": "lamp"}},
        {"type": "tool_use", "id": first.tool_calls[1].id, "name": "add_to_cart", "input": {"product_id": 5}},
    ]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "found 1"},
        {"type": "tool_result", "tool_use_id": first.tool_calls[1].id, "content": "added"},
    ]


def test_streamed_deltas_arrive_in_order_and_make_the_text(vendor):
    vendor.script(text("", deltas=["The ", "Arc ", "lamp ", "is ", "$40", "."]))
    seen: list[tuple[float, str]] = []

    turn = ask(on_delta=lambda d: seen.append((time.monotonic(), d)))

    assert [d for _, d in seen] == ["The ", "Arc ", "lamp ", "is ", "$40", "."]
    assert turn.text == "The Arc lamp is $40."
    assert turn.stop_reason == "end"


def test_deltas_reach_the_callback_while_the_stream_is_still_coming(vendor):
    vendor.script(text("one two three", chunk_delay=0.2))
    arrivals: list[float] = []
    started = time.monotonic()

    ask(on_delta=lambda _d: arrivals.append(time.monotonic() - started))

    assert len(arrivals) == 3
    # The first word is handed on long before the last one was sent.
    assert arrivals[-1] - arrivals[0] >= 0.3


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_slow_vendor_times_out_within_the_setting(vendor, settings, stream):
    settings.LLM_TIMEOUT_SECONDS = 1.0
    vendor.script(slow(5.0))
    started = time.monotonic()

    with pytest.raises(LLMError) as raised:
        ask(on_delta=(lambda _d: None) if stream else None)

    assert raised.value.kind == "timeout"
    assert time.monotonic() - started < 1.0 + 1.0


def test_a_stream_that_trickles_past_the_deadline_times_out(vendor, settings):
    settings.LLM_TIMEOUT_SECONDS = 1.0
    vendor.script(text("a b c d e f g h i j", chunk_delay=0.3))
    deltas: list[str] = []
    started = time.monotonic()

    with pytest.raises(LLMError) as raised:
        ask(on_delta=deltas.append)

    assert raised.value.kind == "timeout"
    assert time.monotonic() - started < 1.0 + 1.0
    assert 0 < len(deltas) < 10


@pytest.mark.parametrize(
    ("status", "kind"),
    [(429, "rate_limited"), (500, "server_error"), (503, "server_error"), (529, "overloaded"), (401, "auth")],
)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_vendor_error_answers_map_to_kinds(vendor, status, kind, stream):
    vendor.script(error(status))

    with pytest.raises(LLMError) as raised:
        ask(on_delta=(lambda _d: None) if stream else None)

    assert raised.value.kind == kind


def test_a_server_that_is_not_there_is_a_connection_failure(fake_llm, settings):
    fake_llm.stop()

    with pytest.raises(LLMError) as raised:
        ask()

    assert raised.value.kind == "connection"


def test_a_failure_before_any_output_is_retried(vendor, settings):
    settings.LLM_RETRIES = 1
    vendor.script(error(529), text("Here you are."))
    deltas: list[str] = []

    turn = ask(on_delta=deltas.append)

    assert turn.text == "Here you are."
    assert "".join(deltas) == "Here you are."
    assert len(vendor.requests) == 2


def test_retries_stop_at_the_setting(vendor, settings):
    settings.LLM_RETRIES = 1
    vendor.script(error(500), error(500), text("never asked"))

    with pytest.raises(LLMError) as raised:
        ask()

    assert raised.value.kind == "server_error"
    assert len(vendor.requests) == 2


def test_a_failure_after_text_was_streamed_is_not_retried(vendor, settings):
    settings.LLM_RETRIES = 2
    vendor.script(
        text("Hello there friend", fail_after_deltas=1, error_type="overloaded_error"), text("again")
    )
    deltas: list[str] = []

    with pytest.raises(LLMError) as raised:
        ask(on_delta=deltas.append)

    assert raised.value.kind == "overloaded"
    assert deltas == ["Hello "]
    assert len(vendor.requests) == 1


def test_auth_and_bad_requests_are_not_retried(vendor, settings):
    settings.LLM_RETRIES = 2
    vendor.script(error(400), text("never asked"))

    with pytest.raises(LLMError) as raised:
        ask()

    assert raised.value.kind == "bad_response"
    assert len(vendor.requests) == 1


def test_cost_is_estimated_from_the_price_settings(vendor, settings):
    settings.LLM_PRICE_INPUT_PER_MTOK = Decimal("0.15")
    settings.LLM_PRICE_OUTPUT_PER_MTOK = Decimal("0.60")
    vendor.script(text("ok", input_tokens=1000, output_tokens=500))

    turn = ask()

    # 1000 * 0.15 / 1e6 + 500 * 0.60 / 1e6
    assert turn.cost == Decimal("0.000450")
    assert isinstance(turn.latency_ms, float)
    assert turn.latency_ms > 0


def test_a_local_openai_compatible_server_needs_no_key(fake_llm, settings):
    settings.OPENAI_API_KEY = ""
    fake_llm.script(text("local answer"))

    turn = ask()

    assert turn.text == "local answer"
    assert fake_llm.requests[0].headers["authorization"] == "Bearer not-needed"
    # A local server gets max_tokens, which it understands; OpenAI itself gets max_completion_tokens.
    assert fake_llm.last_body["max_tokens"] == settings.LLM_MAX_TOKENS
    assert fake_llm.last_body["temperature"] == settings.LLM_TEMPERATURE


def test_openai_streaming_asks_for_usage(fake_llm):
    fake_llm.script(text("hi", input_tokens=30, output_tokens=2))

    turn = ask(on_delta=lambda _d: None)

    assert fake_llm.last_body["stream_options"] == {"include_usage": True}
    assert (turn.usage.input_tokens, turn.usage.output_tokens) == (30, 2)


def test_anthropic_requests_carry_the_key_and_max_tokens(fake_llm, settings):
    fake_llm.script_anthropic(text("hi"))

    ask()

    request = fake_llm.requests[0]
    assert request.path == "/v1/messages"
    # The pinned SDK sends the key as a bearer token (older ones used x-api-key).
    assert "sk-ant-fake" in (request.headers.get("x-api-key") or request.headers["authorization"])
    assert request.headers["anthropic-version"]
    assert request.body["max_tokens"] == settings.LLM_MAX_TOKENS


def test_tool_call_from_raw_treats_empty_arguments_as_an_empty_object():
    assert ToolCall.from_raw(id="c", name="get_cart", raw_arguments="").arguments == {}
    assert ToolCall.from_raw(id="c", name="get_cart", raw_arguments="null").error
