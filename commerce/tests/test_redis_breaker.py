"""The Redis breaker lets a process's calls run side by side while Redis answers, and still opens on the
first failure and lets one trial call through when it is half-open (commerce/cache.py)."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pybreaker
import pytest
from django.core.cache import caches
from redis.exceptions import ConnectionError as RedisConnectionError

from commerce.cache import ConcurrentCircuitBreaker, FailSoftRedisCache, redis_breaker

RESET_SECONDS = 0.2


@pytest.fixture
def breaker(settings) -> ConcurrentCircuitBreaker:
    """A breaker of its own, made as the cache's are (``redis_breaker``), reset after 0.2 s."""
    settings.REDIS_RETRY_AFTER_SECONDS = RESET_SECONDS
    made = redis_breaker(f"test {uuid.uuid4()}")
    assert isinstance(made, ConcurrentCircuitBreaker)
    return made


def test_two_threads_calls_run_at_the_same_time_while_the_breaker_is_closed(breaker):
    both_inside = threading.Barrier(2, timeout=5)  # broken if one call waited for the other to end

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda n: breaker.call(lambda: (both_inside.wait(), n)[1]), [1, 2]))

    assert answers == [1, 2]
    assert breaker.current_state == pybreaker.STATE_CLOSED


def test_the_first_failure_opens_the_breaker_and_later_calls_fail_fast(breaker):
    calls = []

    def refused():
        calls.append(1)
        raise RedisConnectionError("refused")

    with pytest.raises(RedisConnectionError):
        breaker.call(refused)
    assert breaker.current_state == pybreaker.STATE_OPEN
    with pytest.raises(pybreaker.CircuitBreakerError):
        breaker.call(refused)
    assert len(calls) == 1  # the open breaker did not touch Redis


def test_an_answer_that_is_not_a_redis_failure_leaves_the_breaker_closed(breaker):
    with pytest.raises(ValueError):
        breaker.call(lambda: (_ for _ in ()).throw(ValueError("no such key")))
    assert breaker.current_state == pybreaker.STATE_CLOSED


def test_a_half_open_breaker_lets_one_trial_call_through_at_a_time(breaker):
    with pytest.raises(RedisConnectionError):
        breaker.call(lambda: (_ for _ in ()).throw(RedisConnectionError("refused")))
    time.sleep(RESET_SECONDS * 1.5)

    lock = threading.Lock()
    trial_running, entered, beside_the_trial = [False], [], []

    def call(n: int) -> int:
        with lock:
            if trial_running[0]:
                beside_the_trial.append(n)
            first = not entered
            entered.append(n)
            trial_running[0] = first
        if first:  # the trial: the others must wait until it has told whether Redis is back
            time.sleep(0.2)
            trial_running[0] = False
        return n

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = sorted(pool.map(lambda n: breaker.call(call, n), range(4)))

    assert answers == [0, 1, 2, 3]
    assert beside_the_trial == []
    assert breaker.current_state == pybreaker.STATE_CLOSED  # the trial succeeded: Redis is back


@pytest.mark.redis
def test_the_caches_calls_from_two_threads_reach_redis_at_the_same_time():
    """Through the cache's own door (``call_strict``, which every cache command takes)."""
    cache = caches["default"]
    assert isinstance(cache, FailSoftRedisCache)
    both_inside = threading.Barrier(2, timeout=5)

    def command(n: int) -> int:
        both_inside.wait()
        return cache._cache.get_client(write=True).incrby(f"breaker:side-by-side:{n}", n)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda n: cache.call_strict("incr", command, n), [1, 2]))

    assert answers == [1, 2]
    cache._cache.get_client(write=True).delete("breaker:side-by-side:1", "breaker:side-by-side:2")


def test_a_closed_breaker_still_tells_its_listeners_of_each_call(breaker):
    heard = []

    class Recorder(pybreaker.CircuitBreakerListener):
        def before_call(self, cb, func, *args, **kwargs):
            heard.append("before")

        def success(self, cb):
            heard.append("success")

        def failure(self, cb, exc):
            heard.append("failure")

    breaker.add_listener(Recorder())
    assert breaker.call(lambda: 7) == 7
    with pytest.raises(RedisConnectionError):
        breaker.call(lambda: (_ for _ in ()).throw(RedisConnectionError("refused")))
    assert heard == ["before", "success", "before", "failure"]
