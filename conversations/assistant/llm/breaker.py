"""One circuit breaker for every model call of every process.

pybreaker keeps the state machine; with ``REDIS_URL`` its ``CircuitRedisStorage`` keeps the state, the
failure count and the opening time in Redis, so a breaker tripped by one worker is open for all of
them (in the embedded run the state is in memory, per process).

The vendor call itself runs *outside* pybreaker: ``CircuitBreaker.call`` holds a per-process lock for
the whole guarded call, which would let only one model call run at a time in a process. So
``allow_call`` reads the state before a call, and ``record_success`` / ``record_failure`` replay the
outcome through ``CircuitBreaker.call`` afterwards, which applies pybreaker's transitions (count,
open, half-open trial, close).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pybreaker
from django.conf import settings

logger = logging.getLogger(__name__)
_NAMESPACE = "llm"
_lock = threading.Lock()
_cache: dict[tuple[object, ...], pybreaker.CircuitBreaker] = {}


class _VendorFailure(Exception):
    """Stands for a failed vendor call while the outcome is replayed into pybreaker."""


def _storage() -> pybreaker.CircuitBreakerStorage | None:
    """Redis storage when REDIS_URL is set, else memory; None when Redis cannot be reached now."""
    if not settings.REDIS_URL:
        return pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "commerce"
    try:
        namespace = f"{prefix}:{_NAMESPACE}"
        return pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, client, namespace=namespace)
    except redis.RedisError:
        logger.warning("LLM circuit breaker: Redis unreachable, using a per-process breaker for now")
        return None


def get_breaker() -> pybreaker.CircuitBreaker:
    """The breaker for the current settings (tests change them; a process normally builds one)."""
    key = (
        settings.REDIS_URL,
        settings.LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD,
        settings.LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS,
    )
    with _lock:
        breaker = _cache.get(key)
        if breaker is None:
            storage = _storage()
            breaker = pybreaker.CircuitBreaker(
                fail_max=max(1, settings.LLM_CIRCUIT_BREAKER_FAILURE_THRESHOLD),
                reset_timeout=settings.LLM_CIRCUIT_BREAKER_TIMEOUT_SECONDS,
                state_storage=storage or pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED),
                name="llm",
                throw_new_error_on_trip=False,
            )
            if storage is not None:
                _cache[key] = breaker
        return breaker


def _open_until(breaker: pybreaker.CircuitBreaker) -> datetime | None:
    opened_at = breaker._state_storage.opened_at
    if opened_at is None:
        return None
    return opened_at + timedelta(seconds=breaker.reset_timeout)


def breaker_state() -> str:
    """ "closed", "open" or "half_open". An open breaker whose timeout has passed is reported half-open:
    the next call is let through as the trial."""
    breaker = get_breaker()
    state = breaker.current_state
    if state == pybreaker.STATE_CLOSED:
        return "closed"
    if state == pybreaker.STATE_HALF_OPEN:
        return "half_open"
    until = _open_until(breaker)
    if until is not None and datetime.now(UTC) >= until:
        return "half_open"
    return "open"


def allow_call() -> bool:
    """False while the breaker is open and its timeout has not passed: then no vendor call is made."""
    return breaker_state() != "open"


def _replay(outcome: Exception | None) -> None:
    if outcome is not None:
        raise outcome


def _record(outcome: Exception | None) -> None:
    breaker = get_breaker()
    try:
        breaker.call(_replay, outcome)
    except _VendorFailure:
        pass
    except pybreaker.CircuitBreakerError:
        # Another call opened the breaker while this one was under way: its outcome changes nothing.
        pass


def record_success() -> None:
    _record(None)


def record_failure() -> None:
    _record(_VendorFailure())


def reset_breaker() -> None:
    """Closes the breaker and zeroes its counts (tests, and an operator after fixing the vendor)."""
    breaker = get_breaker()
    breaker.close()
    breaker._state_storage.reset_counter()
