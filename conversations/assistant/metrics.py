"""Prometheus metrics of the assistant: messages answered by intent, planner and fallback, and how long
a reply took. Label values come from fixed sets (the intent table, the planners, the fallback reasons),
so no message text can grow the metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from conversations.assistant.intents import Intent

MESSAGES = Counter(
    "commerce_assistant_messages",
    "Shopper messages answered, by intent, planner (rules or llm), fallback reason (none) and channel.",
    ["intent", "planner", "fallback", "channel"],
)
REPLY_SECONDS = Histogram(
    "commerce_assistant_reply_seconds",
    "Time from a shopper message to the assistant's recorded reply, by planner.",
    ["planner"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
)
KNOWN_INTENTS = frozenset(Intent)
KNOWN_CHANNELS = frozenset({"web", "kiosk", "mobile", "api", "voice"})


def message_answered(
    *, intent: str, planner: str, fallback: str | None, channel: str, seconds: float
) -> None:
    MESSAGES.labels(
        intent=intent if intent in KNOWN_INTENTS else "other",
        planner=planner,
        fallback=fallback or "none",
        channel=channel if channel in KNOWN_CHANNELS else "other",
    ).inc()
    REPLY_SECONDS.labels(planner=planner).observe(seconds)
