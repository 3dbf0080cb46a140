"""Prometheus metrics of the model calls, exported on /metrics with django-prometheus's registry."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from commerce.metrics import scrape_gauge

CALLS = Counter(
    "commerce_llm_calls",
    "Model calls by provider and outcome (ok, or the LLMError kind).",
    ["provider", "outcome"],
)
FAILURES = Counter(
    "commerce_llm_failures",
    "Failed model calls by provider and kind (timeout, rate_limited, overloaded, ...).",
    ["provider", "kind"],
)
FALLBACKS = Counter(
    "commerce_llm_fallbacks",
    "Replies where the model was meant to plan but the rules answered, by reason.",
    ["reason"],
)
LATENCY = Histogram(
    "commerce_llm_latency_seconds",
    "Wall time of model calls that reached the vendor, retries included.",
    ["provider"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32),
)
INPUT_TOKENS = Counter("commerce_llm_input_tokens", "Tokens sent to the model.", ["provider", "model"])
OUTPUT_TOKENS = Counter("commerce_llm_output_tokens", "Tokens the model wrote.", ["provider", "model"])


def record_fallback(reason: str) -> None:
    """Counts one reply the rules answered although the model was meant to plan (``fallbackReason``)."""
    FALLBACKS.labels(reason=reason).inc()


@scrape_gauge(
    "commerce_llm_breaker_open",
    "1 while the model vendor's circuit breaker is open (calls refused), else 0; 0 with no model set up.",
)
def _breaker_open() -> float:
    from .breaker import breaker_state
    from .port import llm_configured

    return 1.0 if llm_configured() and breaker_state() == "open" else 0.0
