"""``GET /health`` (readiness) and ``GET /health/live`` (liveness) (CONTRACT.md, Operations).

``/health/live`` says only that this process answers: no database query, no cache, no broker, so a
Redis or PostgreSQL outage never makes the orchestrator restart web processes that could keep
selling from what still works (docker-compose.yml's container health checks use it).

``/health`` is readiness, what nginx, a load balancer and an operator read: 200 when every check
passes; 503 as soon as one the store depends on is ``down`` (database, cache, channel layer, Celery
broker), with ``failed`` naming them, so a load balancer or an operator sees which. ``outbox``
reports the tasks waiting for the broker (docs/operations.md, Faults and recovery).

The channel layer's and the broker's answers are remembered by each process for
``HEALTH_CHECK_CACHE_SECONDS`` (5 by default; 0: every call asks): they were four fifths of a call's
cost (a new broker connection, an event loop for the layer's send), and a balancer polling every
second would otherwise hold a web worker that long each time. The database and cache are asked on
every call.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from commerce.cache import strict_cache

logger = logging.getLogger(__name__)


_remembered: dict[str, tuple[float, str]] = {}
_clock = time.monotonic
_remembered_lock = threading.Lock()


def _remembered_check(name: str, check: Callable[[], str]) -> str:
    """``check()``'s answer, asked again once ``HEALTH_CHECK_CACHE_SECONDS`` have passed (per process)."""
    keep = float(settings.HEALTH_CHECK_CACHE_SECONDS)
    now = _clock()
    with _remembered_lock:
        answer = _remembered.get(name)
    if keep > 0 and answer is not None and now - answer[0] < keep:
        return answer[1]
    value = check()
    with _remembered_lock:
        _remembered[name] = (now, value)
    return value


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("health: database unreachable: %s", exc)
        return "down"
    return "ok"


def _check_cache() -> str:
    key = f"health:{uuid.uuid4().hex}"
    store = strict_cache()  # the fail-soft cache would answer "miss" without saying why
    try:
        store.set(key, "1", 5)
        ok = store.get(key) == "1"
        store.delete(key)
    except Exception as exc:  # any backend error means the cache is unusable; report, do not crash
        logger.warning("health: cache error: %s", exc)
        return "down"
    return "ok" if ok else "down"


def _check_channel_layer() -> str:
    layer = get_channel_layer()
    if layer is None:
        return "down"
    try:
        async_to_sync(layer.group_send)("health", {"type": "health.ping"})
    except Exception as exc:  # same reasoning as the cache: a broken layer is reported as down
        logger.warning("health: channel layer error: %s", exc)
        return "down"
    return "ok"


def _check_celery() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    from commerce.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=1)
    except Exception as exc:  # broker libraries raise many types; all mean "cannot queue"
        logger.warning("health: celery broker error: %s", exc)
        return "down"
    return "ok"


def _check_llm() -> str | dict[str, str]:
    """``"disabled"``, or the provider, model and circuit-breaker state (CONTRACT section 6)."""
    if not settings.LLM_ENABLED:
        return "disabled"
    from conversations.assistant.llm import llm_status

    return llm_status()


def _check_voice() -> dict[str, str]:
    """The provider, the kill switch and the scheduler, as the next scan will see them."""
    from voice.selectors import voice_health

    return voice_health()


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Nothing it depends on is consulted."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _check_database(),
        "cache": _check_cache(),
        "channelLayer": _remembered_check("channelLayer", _check_channel_layer),
        "celery": _remembered_check("celery", _check_celery),
        "llm": _check_llm(),
        "voice": _check_voice(),
    }
    failed = [name for name, value in checks.items() if value == "down"]
    body: dict[str, object] = {"status": "degraded" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    if checks["database"] != "down":
        body["outbox"] = _outbox()
    return JsonResponse(body, status=503 if failed else 200)


def _outbox() -> dict[str, int] | str:
    from commerce.outbox.selectors import outbox_backlog

    try:
        return outbox_backlog()
    except DatabaseError as exc:
        logger.warning("health: outbox unreadable: %s", exc)
        return "down"
