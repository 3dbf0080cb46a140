"""Fixtures that inject faults for real (pytest plugin, listed in the root conftest).

- ``redis_at(url)``: the cache, the channel layer and the Celery broker all pointed at ``url`` (a
  closed port, or a :class:`~commerce.testing.faultproxy.FaultProxy` in front of the real Redis),
  with short timeouts, Celery not eager (so work goes through the outbox).
- ``fault_proxy(port)``: a started proxy to ``127.0.0.1:<port>``, stopped after the test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from kombu import pools
from kombu.transport import memory
from redis.backoff import NoBackoff
from redis.retry import Retry

from commerce.testing.faultproxy import FaultProxy

# Nothing listens here (the top of this suite's port range): a Redis that refuses every connection.
CLOSED_REDIS_URL = "redis://127.0.0.1:8119/0"
SHORT_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def redis_target() -> tuple[str, int, str]:
    """Host, port and path of the real Redis of this run (REDIS_URL)."""
    from django.conf import settings

    parts = urlsplit(settings.REDIS_URL)
    return parts.hostname or "127.0.0.1", parts.port or 6379, parts.path or "/0"


@contextlib.contextmanager
def celery_broker(url: str) -> Iterator[None]:
    from commerce.celery import app

    def reset_pools() -> None:
        # kombu keeps its connection pools in a process-wide registry: drop them with the app's refs.
        pools.reset()
        # Private attributes, absent from celery-types' stubs: they are what kombu's reset leaves behind.
        app._pool = None  # type: ignore[attr-defined]
        app.amqp._producer_pool = None  # type: ignore[attr-defined]

    def forget_in_memory_messages() -> None:
        # kombu's in-memory broker keeps its queues for the whole process: start and end empty.
        memory.Channel.queues.clear()

    previous = app.conf.broker_url
    # The stubs make broker_url read-only; Celery's configuration object takes assignments.
    app.conf.broker_url = url  # type: ignore[misc]
    reset_pools()
    forget_in_memory_messages()
    try:
        yield
    finally:
        app.conf.broker_url = previous  # type: ignore[misc]
        reset_pools()
        forget_in_memory_messages()


@contextlib.contextmanager
def redis_at(url: str, *, retry_after: float = 0.3) -> Iterator[None]:
    caches = {
        "default": {
            "BACKEND": "commerce.cache.FailSoftRedisCache",
            "LOCATION": url,
            "OPTIONS": {**SHORT_TIMEOUTS, "retry": Retry(NoBackoff(), 0)},
        }
    }
    layers = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": url, **SHORT_TIMEOUTS}], "prefix": "faults"},
        }
    }
    with (
        override_settings(
            CACHES=caches,
            CHANNEL_LAYERS=layers,
            REDIS_URL=url,
            CELERY_TASK_ALWAYS_EAGER=False,
            REDIS_RETRY_AFTER_SECONDS=retry_after,
            OUTBOX_SWEEP_GRACE_SECONDS=0,
        ),
        celery_broker(url),
    ):
        yield


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[int], FaultProxy]]:
    proxies: list[FaultProxy] = []

    def start(port: int, host: str = "127.0.0.1") -> FaultProxy:
        proxy = FaultProxy(port, target_host=host).start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()
