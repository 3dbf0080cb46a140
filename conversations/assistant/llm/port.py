"""``call_model``: one model turn with everything around the vendor call.

Order of checks: enabled and configured, the daily token budget, the circuit breaker; then the vendor
call bounded by ``LLM_TIMEOUT_SECONDS`` (retries included), the breaker told the outcome, the tokens
added to the budget, metrics and the cost estimate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings

from . import anthropic_provider, budget, metrics, openai_provider
from .breaker import allow_call, breaker_state, record_failure, record_success
from .types import ChatMessage, LLMError, ModelTurn, ToolSpec, Usage
from .vendor import Completion, VendorRequest

logger = logging.getLogger(__name__)


class _Provider(Protocol):
    """What each provider module offers (``openai_provider``, ``anthropic_provider``)."""

    NAME: str

    def configured(self) -> bool: ...

    def complete(self, request: VendorRequest) -> Completion: ...

    def forget_clients(self) -> None: ...


_PROVIDERS: dict[str, _Provider] = {
    openai_provider.NAME: openai_provider,
    anthropic_provider.NAME: anthropic_provider,
}
_MTOK = Decimal(1_000_000)
# A retry needs at least this much of the time left to be worth starting.
_MIN_RETRY_SECONDS = 0.5
_BACKOFF_SECONDS = 0.25


def _provider() -> _Provider:
    return _PROVIDERS[settings.LLM_PROVIDER]


def llm_configured() -> bool:
    """LLM_ENABLED and a key or base URL for the chosen provider."""
    return bool(settings.LLM_ENABLED) and _provider().configured()


def forget_clients() -> None:
    """Drops the cached SDK clients (tests point the base URL at a new fake server each time)."""
    for provider in _PROVIDERS.values():
        provider.forget_clients()


def llm_status() -> str | dict[str, Any]:
    """``/health`` ``checks.llm``: "disabled", or the provider, model and breaker state."""
    if not llm_configured():
        return "disabled"
    return {"provider": settings.LLM_PROVIDER, "model": settings.LLM_MODEL, "breaker": breaker_state()}


def estimate_cost(usage: Usage) -> Decimal:
    """US dollars for ``usage`` at LLM_PRICE_INPUT_PER_MTOK / LLM_PRICE_OUTPUT_PER_MTOK."""
    cost = (
        usage.input_tokens * settings.LLM_PRICE_INPUT_PER_MTOK
        + usage.output_tokens * settings.LLM_PRICE_OUTPUT_PER_MTOK
    ) / _MTOK
    return cost.quantize(Decimal("0.000001"))


def _attempts(request: VendorRequest, streamed: list[bool]) -> Completion:
    """The vendor call with our own retries: only for vendor failures, only while nothing has reached
    ``on_delta`` (the shopper must not see text twice), with a short backoff inside the time left."""
    provider = _provider()
    retries_left = max(0, settings.LLM_RETRIES)
    attempt = 0
    while True:
        try:
            return provider.complete(request)
        except LLMError as error:
            backoff = _BACKOFF_SECONDS * (2**attempt)
            can_retry = (
                error.is_vendor_failure
                and error.kind != "timeout"
                and retries_left > 0
                and not streamed[0]
                and request.deadline - time.monotonic() > backoff + _MIN_RETRY_SECONDS
            )
            if not can_retry:
                raise
            logger.info("LLM call failed (%s), retrying in %.2fs", error.kind, backoff)
            time.sleep(backoff)
            retries_left -= 1
            attempt += 1


def call_model(
    *,
    system: str,
    messages: list[ChatMessage],
    tools: list[ToolSpec],
    budget_key: str,
    on_delta: Callable[[str], None] | None = None,
) -> ModelTurn:
    """Asks the configured model for one turn. Raises ``LLMError`` (kind says why) instead of answering
    when the model is off, the budget is spent, the breaker is open or the vendor fails in time.
    With ``on_delta`` the answer is streamed and each text delta is passed to it as it arrives."""
    if not settings.LLM_ENABLED:
        raise LLMError("disabled")
    provider = _provider()
    if not provider.configured():
        raise LLMError("not_configured", f"no key or base URL for {provider.NAME}")
    if budget.budget_exhausted(budget_key):
        metrics.CALLS.labels(provider=provider.NAME, outcome="budget_exceeded").inc()
        raise LLMError("budget_exceeded", f"{budget_key} has used its daily model tokens")
    if not allow_call():
        metrics.CALLS.labels(provider=provider.NAME, outcome="circuit_open").inc()
        raise LLMError("circuit_open")

    streamed = [False]

    def deliver(delta: str) -> None:
        streamed[0] = True
        if on_delta is not None:  # deliver is only handed on with one
            on_delta(delta)

    started = time.monotonic()
    request = VendorRequest(
        system=system,
        messages=messages,
        tools=tools,
        model=settings.LLM_MODEL,
        max_tokens=settings.LLM_MAX_TOKENS,
        temperature=settings.LLM_TEMPERATURE,
        deadline=started + settings.LLM_TIMEOUT_SECONDS,
        on_delta=deliver if on_delta is not None else None,
    )
    try:
        completion = _attempts(request, streamed)
    except LLMError as error:
        if error.is_vendor_failure:
            record_failure()
        else:
            # The vendor answered (a refusal of our key or request): it is up, so the breaker counts
            # a success, as pybreaker does for excluded errors.
            record_success()
        metrics.LATENCY.labels(provider=provider.NAME).observe(time.monotonic() - started)
        metrics.CALLS.labels(provider=provider.NAME, outcome=error.kind).inc()
        metrics.FAILURES.labels(provider=provider.NAME, kind=error.kind).inc()
        raise
    elapsed = time.monotonic() - started
    record_success()
    budget.add_tokens(budget_key, completion.usage.total)
    metrics.LATENCY.labels(provider=provider.NAME).observe(elapsed)
    metrics.CALLS.labels(provider=provider.NAME, outcome="ok").inc()
    labels = {"provider": provider.NAME, "model": settings.LLM_MODEL}
    metrics.INPUT_TOKENS.labels(**labels).inc(completion.usage.input_tokens)
    metrics.OUTPUT_TOKENS.labels(**labels).inc(completion.usage.output_tokens)
    return ModelTurn(
        text=completion.text,
        tool_calls=completion.tool_calls,
        usage=completion.usage,
        model=settings.LLM_MODEL,
        provider=provider.NAME,
        latency_ms=round(elapsed * 1000, 1),
        stop_reason=completion.stop_reason,
        cost=estimate_cost(completion.usage),
    )
