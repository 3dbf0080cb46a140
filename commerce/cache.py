"""The shared cache on Redis, failing soft: with Redis down the store keeps selling without it.

:class:`FailSoftRedisCache` is Django's own Redis backend whose every call goes through a per-process
circuit breaker (pybreaker). A call that meets a Redis error (refused, reset, timed out) opens the
breaker for ``REDIS_RETRY_AFTER_SECONDS``: during that time no call touches the network, so a Redis
that silently drops packets costs each process one socket timeout (its calls already under way wait
theirs side by side), not one per cache call. When the time is up the next call tries Redis again
and, if it answers, the cache is back by itself.

While Redis is unavailable the cache behaves like an empty cache that remembers nothing: ``get`` gives
the default, ``add`` says it stored the key (nobody had it), ``incr`` counts from zero, writes and
deletes do nothing. Every caller already handles an empty cache, so listing caches are rebuilt, dedupe
markers let the event through and counters (chat limits, login failures, token budgets) fail open. Each
such answer is counted in ``commerce_cache_unavailable_total{operation}``; the errors that open the
breaker are logged (the first of an outage, and any call already under way then), the breaker keeps
the rest quiet.

Callers that must *know* (the rate limiter, which logs and counts its own fail-open decisions) use
:func:`strict_cache`: the same breaker, but :class:`CacheUnavailable` is raised instead of the fallback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pybreaker
from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCacheClient
from django_prometheus.cache.backends.redis import NativeRedisCache
from prometheus_client import Counter
from redis.commands.core import Script
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CACHE_UNAVAILABLE = Counter(
    "commerce_cache_unavailable",
    "Cache calls answered without Redis (as an empty cache would) because Redis was unreachable.",
    ["operation"],
)

T = TypeVar("T")


class CacheUnavailable(Exception):
    """Redis could not be reached (now, or recently enough that the breaker is still open)."""


class ConcurrentCircuitBreaker(pybreaker.CircuitBreaker):
    """pybreaker's breaker, letting calls run side by side while it is closed.

    pybreaker holds the breaker's lock for the whole of every call (danielfm/pybreaker#3, #55), so a
    process's Redis commands queued behind each other's round trips: under the chat benchmark a Daphne
    process's worker threads spent about two thirds of their Redis time waiting for that lock (py-spy).
    Here a closed breaker runs the call without the lock and takes it only for the bookkeeping after
    (a failure counted and, at ``fail_max``, the breaker opened; a success resetting the count), so a
    failure is never lost to another thread's success. Open and half-open calls go through pybreaker's
    locked path: a half-open breaker still lets one trial call through at a time. Calls already on
    their way when Redis fails each end with their own error (at most one socket timeout, side by side);
    every call after that is answered at once."""

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        state = self._state  # not ``self.state``, which may write back a state being changed
        if state.name != pybreaker.STATE_CLOSED or self.current_state != pybreaker.STATE_CLOSED:
            return super().call(func, *args, **kwargs)
        state.before_call(func, *args, **kwargs)  # as pybreaker's own call, without its lock
        for listener in self.listeners:
            listener.before_call(self, func, *args, **kwargs)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            with self._lock:
                state._handle_error(exc, reraise=False)  # raises it itself when it opens the breaker
            raise
        with self._lock:
            state._handle_success()
        return result


_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_breakers_lock = threading.Lock()
REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError)


def redis_breaker(
    location: str, failures: tuple[type[BaseException], ...] = REDIS_FAILURES
) -> pybreaker.CircuitBreaker:
    """One breaker per Redis location per process (Django builds a cache backend per thread): opened by
    one failure of the ``failures`` kinds, tried again after ``REDIS_RETRY_AFTER_SECONDS``. Any other
    exception (a missing key for ``incr``) is an answer, not a failure."""
    reset_timeout = float(getattr(settings, "REDIS_RETRY_AFTER_SECONDS", 5))
    key = f"{location}|{reset_timeout}"
    with _breakers_lock:
        breaker = _breakers.get(key)
        if breaker is None:
            breaker = ConcurrentCircuitBreaker(
                fail_max=1,
                reset_timeout=reset_timeout,
                exclude=[lambda exc: not isinstance(exc, failures)],
                name=location,
                throw_new_error_on_trip=False,
            )
            _breakers[key] = breaker
        return breaker


# The process's ``redis.Redis`` clients (each with its connection pool), by server and pool options.
_process_clients: dict[tuple[str, str], Any] = {}
_process_clients_lock = threading.Lock()


class _ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, sharing one ``redis.Redis`` (and its connection pool) per server
    across the whole process.

    Django builds a new ``redis.Redis`` for every cache operation, and redis-py fills a table of ~170
    response callbacks for each (about a tenth of a cached page's time, measured). Django also keeps a
    cache backend per thread *and per asyncio task* (``caches`` is context-local): under Daphne every
    socket had its own backend, its own pool and so its own new Redis connections (a connect and a
    handshake on each socket's first cache call, measured at ~2% of a chat process's CPU). A
    ``redis.Redis`` and its pool are safe to share between threads; the pool reconnects after a fork."""

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's private helpers and attributes, which its stubs leave out.
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]  # not in the stubs
        shared_key = (self._servers[index], repr(sorted(self._pool_options.items())))  # type: ignore[attr-defined]  # not in the stubs
        client = _process_clients.get(shared_key)
        if client is None:
            with _process_clients_lock:
                client = _process_clients.get(shared_key)
                if client is None:
                    pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # not in the stubs
                    client = _process_clients[shared_key] = self._client(connection_pool=pool)  # type: ignore[attr-defined]  # not in the stubs
        return client


# Atomic like MULTI/EXEC (a script runs alone on the server); EVALSHA, loaded again by redis-py if the
# server has forgotten it (a restart).
COUNT_MANY_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'NX', 'EX', ARGV[2])
  counts[i] = redis.call('INCRBY', key, ARGV[1])
end
return counts
"""

# KEYS[1]: a version key; KEYS[2..]: keys that end where the version is to be appended (Django's key for
# "name:v" + version is its key for "name:v" followed by the version). Returns {version, values...}, or
# {false} when there is no version.
VERSIONED_GET_SCRIPT = """
local version = redis.call('GET', KEYS[1])
if not version then
  return {false}
end
local found = {version}
for i = 2, #KEYS do
  found[i] = redis.call('GET', KEYS[i] .. version)
end
return found
"""


class FailSoftRedisCache(NativeRedisCache):
    """Django's ``RedisCache`` that answers like an empty cache while Redis is unreachable.

    Through django-prometheus' subclass of it, so gets, hits, misses and failed gets are counted
    (``django_cache_get_*_total{backend="native_redis"}``)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusedClientRedisCacheClient
        self._location = server if isinstance(server, str) else ",".join(server)
        self._scripts: dict[str, Script] = {}

    def call_strict(self, operation: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``method(*args, **kwargs)`` through the breaker; :class:`CacheUnavailable` when Redis is not
        there."""
        breaker = redis_breaker(f"cache {self._location}")
        try:
            return breaker.call(method, *args, **kwargs)
        except pybreaker.CircuitBreakerError as exc:
            raise CacheUnavailable(f"Redis breaker open ({operation})") from exc
        except (RedisError, OSError) as exc:
            logger.error(
                "cache: Redis unreachable during %s (%s); answering without it for %ss",
                operation,
                exc,
                breaker.reset_timeout,
            )
            raise CacheUnavailable(str(exc)) from exc

    def _soft(self, operation: str, fallback: T, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return self.call_strict(operation, method, *args, **kwargs)
        except CacheUnavailable:
            CACHE_UNAVAILABLE.labels(operation=operation).inc()
            return fallback

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._soft("add", True, super().add, key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._soft("get", default, super().get, key, default, version)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._soft("set", None, super().set, key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._soft("touch", False, super().touch, key, timeout, version)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._soft("delete", False, super().delete, key, version)

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        return self._soft("get_many", {}, super().get_many, keys, version)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._soft("has_key", False, super().has_key, key, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._soft("incr", delta, super().incr, key, delta, version)

    def set_many(
        self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        return self._soft("set_many", [], super().set_many, data, timeout, version)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._soft("delete_many", None, super().delete_many, keys, version)

    def clear(self) -> None:
        self._soft("clear", None, super().clear)

    def script_strict(
        self, source: str, keys: Sequence[str], args: Sequence[Any], *, operation: str = "script"
    ) -> Any:
        """Runs a server-side Lua script (``EVALSHA``; registered once per process, loaded again by redis-py
        when the server has forgotten it) on ``keys`` as Django stores them; one command and one round
        trip, atomic like ``MULTI``/``EXEC``. :class:`CacheUnavailable` when Redis is not there."""

        def run() -> Any:
            client = self._cache.get_client(write=True)
            script = self._scripts.get(source)
            if script is None:  # its SHA1 once; any client of this cache can run it
                script = self._scripts[source] = client.register_script(source)
            return script(
                keys=[self.make_and_validate_key(key) for key in keys], args=list(args), client=client
            )

        return self.call_strict(operation, run)

    def loads(self, stored: Any) -> Any:
        """A value as a script read it from Redis, as Django's ``get`` would return it."""
        return self._cache._serializer.loads(stored)

    def count_many_strict(self, keys: Sequence[str], cost: int, timeout: int) -> list[int]:
        """:func:`count_many` on Redis: ``SET key 0 NX EX timeout`` and ``INCRBY key cost`` for every key in
        one server-side script (:data:`COUNT_MANY_SCRIPT`), so one command, one round trip and no counter
        ever left without its expiry (Django's ``add`` + ``incr`` take three round trips a key; the same
        commands in a ``MULTI``/``EXEC`` pipeline cost 60% more of this process's CPU, measured). Counters
        are stored as Django stores ints (raw), so ``get``/``incr`` read them as usual."""
        counts = self.script_strict(COUNT_MANY_SCRIPT, keys, [cost, timeout], operation="count_many")
        return [int(value) for value in counts]

    def versioned_get_strict(self, version_key: str, stems: Sequence[str]) -> tuple[Any, list[Any]]:
        """:func:`versioned_get` on Redis: one script (:data:`VERSIONED_GET_SCRIPT`), one round trip."""
        found = self.script_strict(VERSIONED_GET_SCRIPT, [version_key, *stems], [], operation="versioned_get")
        if found[0] is None:
            return None, [None] * len(stems)
        stored = found[1:] + [None] * (len(stems) + 1 - len(found))  # Redis drops a table's trailing nils
        return self.loads(found[0]), [None if value is None else self.loads(value) for value in stored]


def versioned_get(version_key: str, stems: Sequence[str]) -> tuple[Any, list[Any]]:
    """The value of ``version_key`` and, read at that version, the value of each ``stem`` + version
    (``None`` where missing; the version ``None`` and no values when it is not set). One round trip on
    Redis where a version and then the values would take two; raises :class:`CacheUnavailable` when
    Redis is not there."""
    backend = caches["default"]
    if isinstance(backend, FailSoftRedisCache):
        return backend.versioned_get_strict(version_key, stems)
    version = backend.get(version_key)
    if version is None:
        return None, [None] * len(stems)
    found = backend.get_many([f"{stem}{version}" for stem in stems])
    return version, [found.get(f"{stem}{version}") for stem in stems]


def count_many(keys: Sequence[str], *, cost: int = 1, timeout: int) -> list[int]:
    """Adds ``cost`` to each counter in ``keys`` and returns their new values; a counter that did not
    exist starts at 0 and lives ``timeout`` seconds from then. One round trip on Redis (the rate limits
    call this on every request and chat message); raises :class:`CacheUnavailable` when Redis is not
    there, so each caller decides what an outage means (the limits fail open)."""
    backend = caches["default"]
    if isinstance(backend, FailSoftRedisCache):
        return backend.count_many_strict(keys, cost, timeout)
    counts = []
    for key in keys:  # the embedded cache: atomic within its one process
        backend.add(key, 0, timeout)
        try:
            counts.append(backend.incr(key, cost))
        except ValueError:  # expired between add() and incr(): this hit starts it again
            backend.set(key, cost, timeout)
            counts.append(cost)
    return counts


class _StrictView:
    """The fail-soft cache's methods, raising :class:`CacheUnavailable` instead of falling back."""

    def __init__(self, backend: FailSoftRedisCache) -> None:
        self._backend = backend

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(NativeRedisCache, name)

        def strict(*args: Any, **kwargs: Any) -> Any:
            return self._backend.call_strict(name, method, self._backend, *args, **kwargs)

        return strict


def strict_cache() -> BaseCache | _StrictView:
    """The default cache for callers that decide for themselves what an outage means."""
    backend = caches["default"]
    return _StrictView(backend) if isinstance(backend, FailSoftRedisCache) else backend
