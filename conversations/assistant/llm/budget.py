"""The daily model-token budget per user or guest session, counted in the Django cache.

One counter per budget key and UTC day (``llm:tokens:<key>:<YYYY-MM-DD>``), raised with the cache's
atomic ``incr`` (Redis ``INCRBY`` in production) and expiring a little after the day ends, so the count
starts again at 0 at midnight UTC with nothing to sweep.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache

_KEEP_AFTER_DAY_ENDS = timedelta(hours=1)


def _key(budget_key: str, now: datetime) -> str:
    return f"llm:tokens:{budget_key}:{now.date().isoformat()}"


def _seconds_left_in_day(now: datetime) -> int:
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return int((tomorrow - now + _KEEP_AFTER_DAY_ENDS).total_seconds())


def tokens_used_today(budget_key: str) -> int:
    return int(cache.get(_key(budget_key, datetime.now(UTC)), 0))


def budget_exhausted(budget_key: str) -> bool:
    """True when ``budget_key`` has spent its ``LLM_DAILY_TOKENS_PER_USER`` today (0 means no cap)."""
    limit: int = settings.LLM_DAILY_TOKENS_PER_USER
    return limit > 0 and tokens_used_today(budget_key) >= limit


def add_tokens(budget_key: str, tokens: int) -> int:
    """Adds ``tokens`` to today's count and returns the new count."""
    now = datetime.now(UTC)
    key = _key(budget_key, now)
    if tokens <= 0:
        return int(cache.get(key, 0))
    cache.add(key, 0, timeout=_seconds_left_in_day(now))
    try:
        return cache.incr(key, tokens)
    except ValueError:
        # The key expired between add and incr (the day just ended): start the new day's count.
        cache.add(key, tokens, timeout=_seconds_left_in_day(now))
        return tokens
