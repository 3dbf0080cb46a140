"""The Redis cache keeps one redis-py client per connection pool, and counts in one round trip
(commerce/cache.py)."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.test import override_settings

from commerce.cache import CacheUnavailable, FailSoftRedisCache, count_many, versioned_get


@pytest.mark.redis
def test_the_redis_cache_reuses_its_client_between_operations():
    cache = caches["default"]
    assert isinstance(cache, FailSoftRedisCache)
    first = cache._cache.get_client("a", write=True)
    cache.set("reuse:check", 41, 30)
    assert cache.incr("reuse:check") == 42
    assert cache.get("reuse:check") == 42
    assert cache._cache.get_client("b", write=True) is first
    assert cache._cache.get_client("c") is first  # one server: reads use the same pool


@pytest.mark.redis
def test_every_socket_task_of_a_process_shares_one_redis_client():
    """Django keeps a cache backend per asyncio task (``caches`` is context-local): under Daphne each
    socket would otherwise open its own pool and Redis connections."""
    backends, clients = set(), set()

    def use_the_cache() -> None:
        cache = caches["default"]
        backends.add(id(cache._cache))
        clients.add(id(cache._cache.get_client(write=True)))
        cache.get("shared:check")

    async def socket() -> None:
        for _ in range(2):
            await sync_to_async(use_the_cache, thread_sensitive=False)()

    async def sockets() -> None:
        await asyncio.gather(*(socket() for _ in range(5)))

    # A new thread starts with an empty context, as Daphne's event loop does: nothing cached yet.
    loop_thread = threading.Thread(target=asyncio.run, args=(sockets(),))
    loop_thread.start()
    loop_thread.join()
    assert len(backends) > 1  # Django's own behaviour, which is why the client is shared
    assert len(clients) == 1


@pytest.mark.redis
def test_counters_on_redis_take_one_command_and_keep_their_expiry(monkeypatch):
    cache = caches["default"]
    assert isinstance(cache, FailSoftRedisCache)
    cache.delete_many(["count:a", "count:b"])
    client = cache._cache.get_client(write=True)
    client.script_flush()  # the server has forgotten the script (a restart): loaded again on first use
    sent = _commands_sent(monkeypatch, client)
    assert count_many(["count:a", "count:b"], cost=3, timeout=30) == [3, 3]
    sent.clear()
    assert count_many(["count:a"], timeout=30) == [4]
    assert sent == ["EVALSHA"]  # SET NX EX + INCRBY for every key in one script
    assert cache.get("count:a") == 4  # Django reads the counter as it stores ints
    assert 0 < client.ttl(cache.make_and_validate_key("count:a")) <= 30
    assert 0 < client.ttl(cache.make_and_validate_key("count:b")) <= 30


@pytest.mark.redis
def test_counters_and_versioned_reads_raise_cache_unavailable_when_redis_is_gone():
    broken = FailSoftRedisCache("redis://127.0.0.1:18699/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("commerce.cache.caches", {"default": broken})
        with pytest.raises(CacheUnavailable):
            count_many(["gone"], timeout=30)
        with pytest.raises(CacheUnavailable):  # the rate limit's script goes the same way
            broken.script_strict("return 1", ["gone"], [])
        with pytest.raises(CacheUnavailable):  # and a version read with its values
            versioned_get("vg:version", ["vg:head:v"])


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
def test_counters_on_the_embedded_cache_count_and_expire():
    caches["default"].clear()
    assert count_many(["local:a", "local:b"], cost=2, timeout=30) == [2, 2]
    assert count_many(["local:a"], timeout=30) == [3]


@pytest.mark.redis
def test_redis_replies_are_parsed_by_hiredis_in_the_cache_and_the_channel_layer():
    """hiredis is a dependency for speed (pyproject.toml): redis-py takes it silently when installed and
    falls back to its pure-Python parser when not, so a lost install would show only as CPU."""
    from redis._parsers.hiredis import _AsyncHiredisParser, _HiredisParser
    from redis.asyncio import connection as async_connection

    client = caches["default"]._cache.get_client(write=True)
    connection = client.connection_pool.get_connection()
    try:
        assert isinstance(connection._parser, _HiredisParser)
    finally:
        client.connection_pool.release(connection)
    assert async_connection.DefaultParser is _AsyncHiredisParser  # channels_redis' connections


def _commands_sent(monkeypatch, client) -> list[str]:
    sent: list[str] = []
    real_execute = client.execute_command

    def counting_execute(*args, **kwargs):
        sent.append(args[0])
        return real_execute(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", counting_execute)
    return sent


@pytest.mark.redis
def test_a_version_and_the_values_at_that_version_are_read_in_one_command(monkeypatch):
    cache = caches["default"]
    assert isinstance(cache, FailSoftRedisCache)
    cache.set("vg:version", 17, 30)
    cache.set("vg:head:v17", (3, [5, 6, 7]), 30)
    cache.set("vg:head:v16", "stale", 30)
    cache.set("vg:other:v17", {"a": 1}, 30)
    sent = _commands_sent(monkeypatch, cache._cache.get_client(write=True))
    version, values = versioned_get("vg:version", ["vg:head:v", "vg:missing:v", "vg:other:v"])
    assert (version, values) == (17, [(3, [5, 6, 7]), None, {"a": 1}])
    sent.clear()  # the first use may have loaded the script (SCRIPT LOAD, then EVALSHA again)
    versioned_get("vg:version", ["vg:head:v"])
    assert sent == ["EVALSHA"]
    # a missing last value is still reported in its place
    assert versioned_get("vg:version", ["vg:head:v", "vg:missing:v"]) == (17, [(3, [5, 6, 7]), None])
    cache.delete("vg:version")
    assert versioned_get("vg:version", ["vg:head:v"]) == (None, [None])


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
def test_a_versioned_read_on_the_embedded_cache_answers_the_same():
    cache = caches["default"]
    cache.clear()
    assert versioned_get("vg:version", ["vg:head:v"]) == (None, [None])
    cache.set("vg:version", 4)
    cache.set("vg:head:v4", [1, 2])
    assert versioned_get("vg:version", ["vg:head:v", "vg:gone:v"]) == (4, [[1, 2], None])
