"""The Redis cache keeps one redis-py client per connection pool (commerce/cache.py)."""

import pytest
from django.core.cache import caches

from commerce.cache import FailSoftRedisCache


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
