"""What surrounds every model call: the switch, the token budget, the circuit breaker, /health status."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from prometheus_client import REGISTRY

from commerce.testing.fake_llm import error, text
from conversations.assistant.llm import (
    ChatMessage,
    LLMError,
    breaker_state,
    call_model,
    llm_configured,
    llm_status,
    record_fallback,
    tokens_used_today,
)

BASE_DIR = Path(__file__).resolve().parents[2]


def ask(budget_key: str = "session:abc") -> object:
    return call_model(system="s", messages=[ChatMessage("user", "hi")], tools=[], budget_key=budget_key)


def kind_of(budget_key: str = "session:abc") -> str:
    with pytest.raises(LLMError) as raised:
        ask(budget_key)
    return raised.value.kind


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- switch and status ------------------------------------------------------------------------


def test_a_disabled_model_is_never_called(fake_llm, settings):
    settings.LLM_ENABLED = False
    fake_llm.script(text("no"))

    assert kind_of() == "disabled"
    assert llm_configured() is False
    assert llm_status() == "disabled"
    assert fake_llm.requests == []


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_enabled_without_key_or_base_url_is_not_configured(fake_llm, settings, provider):
    fake_llm.use(provider)
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = ""
    settings.ANTHROPIC_API_KEY = settings.ANTHROPIC_BASE_URL = ""

    assert kind_of() == "not_configured"
    assert llm_configured() is False
    # /health tells the truth: no model is ever asked.
    assert llm_status() == "disabled"


def test_status_names_provider_model_and_breaker(fake_llm, settings):
    assert llm_status() == {"provider": "openai", "model": "gpt-4o-mini", "breaker": "closed"}
    fake_llm.use("anthropic", "claude-sonnet-4-5")
    assert llm_status() == {"provider": "anthropic", "model": "claude-sonnet-4-5", "breaker": "closed"}


# --- budget -----------------------------------------------------------------------------------


def test_tokens_are_counted_per_budget_key_and_day(fake_llm):
    fake_llm.script(text("a", input_tokens=100, output_tokens=20), text("b", input_tokens=5, output_tokens=5))

    ask("user:1")
    ask("session:guest")

    assert tokens_used_today("user:1") == 120
    assert tokens_used_today("session:guest") == 10


def test_an_exhausted_budget_refuses_without_calling_and_resets_the_next_utc_day(fake_llm, settings):
    settings.LLM_DAILY_TOKENS_PER_USER = 100
    fake_llm.script(text("a", input_tokens=90, output_tokens=20), text("next day"))
    with time_machine.travel(datetime(2026, 12, 4, 23, 50, tzinfo=UTC), tick=True):
        ask("user:7")
        assert tokens_used_today("user:7") == 110

        assert kind_of("user:7") == "budget_exceeded"
        assert len(fake_llm.requests) == 1
        # Another shopper still has a budget.
        assert tokens_used_today("user:8") == 0

    with time_machine.travel(datetime(2026, 12, 5, 0, 5, tzinfo=UTC), tick=True):
        assert tokens_used_today("user:7") == 0
        assert ask("user:7").text == "next day"


def test_budget_refusals_do_not_count_against_the_breaker(fake_llm, settings):
    settings.LLM_DAILY_TOKENS_PER_USER = 10
    settings.LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD = 2
    fake_llm.script(text("a", input_tokens=10, output_tokens=1))
    ask("user:1")

    for _ in range(3):
        assert kind_of("user:1") == "budget_exceeded"

    assert breaker_state() == "closed"


def test_a_zero_budget_means_no_cap(fake_llm, settings):
    settings.LLM_DAILY_TOKENS_PER_USER = 0
    fake_llm.script(text("a", input_tokens=10**6), text("b"))

    ask("user:1")

    assert ask("user:1").text == "b"


# --- circuit breaker --------------------------------------------------------------------------


def test_the_breaker_opens_after_the_threshold_and_then_no_request_is_sent(fake_llm, settings):
    settings.LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD = 3
    fake_llm.script(error(500), error(429), error(529), text("never sent"))

    assert [kind_of() for _ in range(3)] == ["server_error", "rate_limited", "overloaded"]
    assert breaker_state() == "open"
    assert llm_status()["breaker"] == "open"

    assert kind_of() == "circuit_open"
    assert len(fake_llm.requests) == 3


def test_a_success_resets_the_count_of_consecutive_failures(fake_llm, settings):
    settings.LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD = 2
    fake_llm.script(error(500), text("ok"), error(500), text("ok"))

    kind_of()
    ask()
    kind_of()
    ask()

    assert breaker_state() == "closed"


def test_the_breaker_half_opens_after_its_timeout_and_closes_on_success(fake_llm, settings):
    settings.LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD = 2
    settings.LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS = 30
    fake_llm.script(error(500), error(500), text("back"))
    with time_machine.travel(datetime(2026, 12, 4, 12, 0, tzinfo=UTC), tick=True) as traveller:
        kind_of()
        kind_of()
        assert breaker_state() == "open"

        traveller.shift(timedelta(seconds=31))
        assert breaker_state() == "half_open"
        assert ask().text == "back"

        assert breaker_state() == "closed"


def test_a_failed_trial_call_opens_the_breaker_again(fake_llm, settings):
    settings.LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD = 2
    settings.LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS = 30
    fake_llm.script(error(500), error(500), error(529), text("never"))
    with time_machine.travel(datetime(2026, 12, 4, 12, 0, tzinfo=UTC), tick=True) as traveller:
        kind_of()
        kind_of()
        traveller.shift(timedelta(seconds=31))

        assert kind_of() == "overloaded"

        assert breaker_state() == "open"
        assert kind_of() == "circuit_open"
        assert len(fake_llm.requests) == 3


def test_timeouts_count_as_failures(fake_llm, settings):
    settings.LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD = 1
    settings.LLM_TIMEOUT_SECONDS = 0.5
    fake_llm.script(error(500, delay=2.0))

    assert kind_of() == "timeout"

    assert breaker_state() == "open"


_TRIP_SCRIPT = """
import django, sys
django.setup()
from conversations.assistant.llm import ChatMessage, LLMError, breaker_state, call_model
for _ in range(int(sys.argv[1])):
    try:
        call_model(system="s", messages=[ChatMessage("user", "hi")], tools=[], budget_key="other-process")
    except LLMError as error:
        print(error.kind)
print(breaker_state())
"""


def _other_process(fake_llm, settings, calls: int) -> list[str]:
    """A second process with its own Django setup, on the same Redis and the same fake vendor."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "commerce.settings",
        "REDIS_URL": settings.REDIS_URL,
        "LLM_ENABLED": "true",
        "LLM_PROVIDER": "openai",
        "LLM_RETRIES": "0",
        "OPENAI_API_KEY": "sk-fake",
        "OPENAI_BASE_URL": fake_llm.openai_base_url,
        "LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD": str(settings.LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD),
        "LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS": str(settings.LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS),
    }
    result = subprocess.run(
        [sys.executable, "-c", _TRIP_SCRIPT, str(calls)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.redis
def test_the_breaker_is_shared_by_processes_through_redis(fake_llm, settings):
    settings.LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD = 2
    settings.LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS = 30
    fake_llm.script(error(500), error(529), text("back"))

    # Another worker trips the breaker...
    assert _other_process(fake_llm, settings, 2) == ["server_error", "overloaded", "open"]

    # ...and this process sees it open and sends nothing.
    assert breaker_state() == "open"
    assert kind_of() == "circuit_open"
    assert len(fake_llm.requests) == 2

    # After the timeout this process makes the trial call, which closes it for the other one too.
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=31), tick=True):
        assert breaker_state() == "half_open"
        assert ask().text == "back"
    assert breaker_state() == "closed"
    assert _other_process(fake_llm, settings, 0) == ["closed"]


# --- metrics ----------------------------------------------------------------------------------


def test_calls_failures_latency_and_tokens_are_counted(fake_llm, settings):
    settings.LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD = 1
    before = {
        "ok": metric("commerce_llm_calls_total", provider="openai", outcome="ok"),
        "failed": metric("commerce_llm_failures_total", provider="openai", kind="rate_limited"),
        "open": metric("commerce_llm_calls_total", provider="openai", outcome="circuit_open"),
        "in": metric("commerce_llm_input_tokens_total", provider="openai", model="gpt-4o-mini"),
        "out": metric("commerce_llm_output_tokens_total", provider="openai", model="gpt-4o-mini"),
        "latency": metric("commerce_llm_latency_seconds_count", provider="openai"),
    }
    fake_llm.script(text("a", input_tokens=40, output_tokens=9), error(429))

    ask()
    kind_of()
    kind_of()

    assert metric("commerce_llm_calls_total", provider="openai", outcome="ok") == before["ok"] + 1
    assert (
        metric("commerce_llm_failures_total", provider="openai", kind="rate_limited") == before["failed"] + 1
    )
    assert metric("commerce_llm_calls_total", provider="openai", outcome="circuit_open") == before["open"] + 1
    assert (
        metric("commerce_llm_input_tokens_total", provider="openai", model="gpt-4o-mini") == before["in"] + 40
    )
    assert (
        metric("commerce_llm_output_tokens_total", provider="openai", model="gpt-4o-mini")
        == before["out"] + 9
    )
    assert metric("commerce_llm_latency_seconds_count", provider="openai") == before["latency"] + 2


def test_fallbacks_are_counted_by_reason():
    before = metric("commerce_llm_fallbacks_total", reason="timeout")

    record_fallback("timeout")

    assert metric("commerce_llm_fallbacks_total", reason="timeout") == before + 1


def test_the_model_metrics_are_on_the_metrics_page(client):
    record_fallback("circuit_open")

    body = client.get("/metrics").content.decode()

    assert 'commerce_llm_fallbacks_total{reason="circuit_open"}' in body
    assert "# TYPE commerce_llm_latency_seconds histogram" in body


# --- settings ---------------------------------------------------------------------------------


def _settings_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess:
    script = (
        "from commerce import settings as s; "
        "print(s.LLM_MODEL, s.LLM_PRICE_INPUT_PER_MTOK, s.LLM_DECISION_POLICY)"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={**os.environ, "LLM_MODEL": "", "LLM_PRICE_INPUT_PER_MTOK": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_model_default_follows_the_provider():
    assert _settings_in_a_fresh_process(LLM_PROVIDER="anthropic").stdout.split() == [
        "claude-haiku-4-5",
        "1.00",
        "rules_first",
    ]
    assert _settings_in_a_fresh_process(LLM_PROVIDER="openai", LLM_MODEL="my-local-model").stdout.split() == [
        "my-local-model",
        "0",
        "rules_first",
    ]


@pytest.mark.parametrize("name", ["LLM_DECISION_POLICY", "LLM_PROVIDER"])
def test_an_unknown_policy_or_provider_stops_start_up(name):
    result = _settings_in_a_fresh_process(**{name: "whatever"})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr
