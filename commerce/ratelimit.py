"""Request rate limits in three tiers, with penalty windows that grow for clients that keep pushing.

A client is a signed-in user (``user:<id>``) or, signed out, an address (``ip:<address>``, read through
``NUM_PROXIES`` as DRF's throttles read it). Its tier sets its budget per minute:
``RATE_LIMIT_ANONYMOUS_PER_MINUTE``, ``RATE_LIMIT_AUTHENTICATED_PER_MINUTE`` or, for staff,
``RATE_LIMIT_ADMIN_PER_MINUTE``. Over budget it is refused until its minute ends (a
minute starts with the client's first request after the last one ended). A client refused
*again* in the same minute has ignored ``Retry-After``: it gets a penalty window of the next length in
``RATE_LIMIT_PENALTY_MINUTES`` (1, 5, 30 by default; the last repeats), and during it every request is
refused with the time left as ``Retry-After``. Levels are forgotten a day after the last penalty.

Every count lives in the shared cache, so all web processes agree on the budget, the refusals and the
penalty. On Redis a request costs one round trip: one server-side script reads the penalty, keeps the
minute's start and counts the request (:data:`RATE_WINDOW_SCRIPT`; refusals and levels are counted by
:func:`commerce.cache.count_many`, ``SET NX EX`` + ``INCRBY`` in one script too). A penalty is also
written to :class:`~commerce.accounts.models.RatePenalty`, the admin's registry, from which staff lift
it.

With the cache unreachable the limiter fails open: the request goes through, with a log line and
``commerce_rate_limit_fail_open_total``, rather than every API call answering 500.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import Counter
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from commerce.accounts.models import RatePenalty
from commerce.cache import CacheUnavailable, FailSoftRedisCache, count_many, strict_cache
from commerce.errors import error_response
from commerce.security_events import record_security_event

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
WINDOW_MS = WINDOW_SECONDS * 1000  # starts and penalty ends are stored in milliseconds
# Windows' counters outlive their minute a little, so a slow request never finds its key gone.
COUNTER_TTL_SECONDS = 2 * WINDOW_SECONDS
LEVEL_TTL_SECONDS = 24 * 60 * 60
PENALTY_EVENT = "rate_limit_penalty"
REFUSED_EVENT = "rate_limited"

TIER_SETTINGS = {
    "anonymous": "RATE_LIMIT_ANONYMOUS_PER_MINUTE",
    "authenticated": "RATE_LIMIT_AUTHENTICATED_PER_MINUTE",
    "staff": "RATE_LIMIT_ADMIN_PER_MINUTE",
}

FAIL_OPEN = Counter(
    "commerce_rate_limit_fail_open", "Requests let through because the rate-limit cache was unreachable."
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds; only when refused


@dataclass(frozen=True)
class Client:
    key: str  # user:<id> or ip:<address>
    tier: str


def client_for(user: object, address: str | None) -> Client:
    """Who is asking, for the limiter: the user when signed in, else the address."""
    if getattr(user, "is_authenticated", False):
        tier = "staff" if getattr(user, "is_staff", False) else "authenticated"
        return Client(key=f"user:{getattr(user, 'pk', None)}", tier=tier)
    return Client(key=f"ip:{address or 'unknown'}", tier="anonymous")


def client_address(request: HttpRequest) -> str:
    """The caller's address as the limits see it (``X-Forwarded-For`` only behind ``NUM_PROXIES``)."""
    # get_ident reads only META, which a Django request has as much as DRF's.
    return BaseThrottle().get_ident(request) or ""  # type: ignore[arg-type]  # HttpRequest suffices


def _penalty_key(client: str) -> str:
    return f"rl:penalty:{client}"


def _level_key(client: str) -> str:
    return f"rl:level:{client}"


def _window_key(client: str) -> str:
    return f"rl:window:{client}"


def _count_key(client: str, start_ms: int | str) -> str:
    return f"rl:count:{client}:{start_ms}"


def _refused_key(client: str, start_ms: int) -> str:
    return f"rl:refused:{client}:{start_ms}"


# One round trip a request: the penalty, the minute's start and the count in one server-side script.
# KEYS: the penalty, the minute's start. ARGV: now (ms), a minute (ms), the start key's life (s), the
# count key as stored without its minute, the count's life (s). Under a penalty (its end in ms, or a
# value stored before ends were milliseconds, for the caller to read) it returns {the penalty's stored
# value} and counts nothing; else {false, the minute's start (ms), this request's count in it}.
# A minute is the client's own: it starts with the first request after the last one ended, so a burst
# is refused the same way whenever it starts (a start a little after now is another process that read
# the clock later and stored first: the same minute). A stored start that is not a number (a float
# stored before starts were milliseconds) starts a minute now.
RATE_WINDOW_SCRIPT = """
local penalty = redis.call('GET', KEYS[1])
if penalty and not (tonumber(penalty) and tonumber(penalty) <= tonumber(ARGV[1])) then return {penalty} end
local start = ARGV[1]
local stored = redis.call('GET', KEYS[2])
if stored and tonumber(stored) and tonumber(ARGV[1]) - tonumber(stored) < tonumber(ARGV[2]) then
  start = stored
else
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])
end
local key = ARGV[4] .. start
redis.call('SET', key, 0, 'NX', 'EX', ARGV[5])
return {false, start, redis.call('INCRBY', key, 1)}
"""


def _counted(client: str, now_ms: int) -> tuple[float | None, int, int]:
    """Counts one request of ``client``: ``(None, the minute's start in ms, the request's count in that
    minute)``, or ``(the penalty's end in seconds, 0, 0)``, counting nothing, while the client has a
    penalty. Raises :class:`CacheUnavailable` when the cache is not there."""
    penalty_key, window_key = _penalty_key(client), _window_key(client)
    backend = caches["default"]
    if isinstance(backend, FailSoftRedisCache):
        stored_count_prefix = backend.make_and_validate_key(_count_key(client, ""))
        args = [now_ms, WINDOW_MS, WINDOW_SECONDS, stored_count_prefix, COUNTER_TTL_SECONDS]
        penalty, *counted = backend.script_strict(
            RATE_WINDOW_SCRIPT, [penalty_key, window_key], args, operation="rate_check"
        )
        if penalty is not None:
            return _penalty_end(backend.loads(penalty)), 0, 0
        start, count = counted
        return None, int(start), int(count)
    # The embedded cache (one process): the same steps, one call at a time.
    penalty_end = _penalty_end(backend.get(penalty_key))
    if penalty_end is not None and penalty_end * 1000 > now_ms:
        return penalty_end, 0, 0
    stored = backend.get(window_key)
    if type(stored) is int and now_ms - stored < WINDOW_MS:
        start = stored
    else:
        start = now_ms
        backend.set(window_key, start, WINDOW_SECONDS)
    return None, start, _count(_count_key(client, start), COUNTER_TTL_SECONDS)


def _count(key: str, timeout: int) -> int:
    """Atomically add one to ``key``, creating it (with ``timeout``) if absent."""
    (count,) = count_many([key], timeout=timeout)
    return count


def _penalty_minutes(level: int) -> int:
    schedule = settings.RATE_LIMIT_PENALTY_MINUTES
    return schedule[min(level, len(schedule)) - 1]


def _fail_open(check: Callable[[], Decision], client: Client) -> Decision:
    try:
        decision = check()
    except (CacheUnavailable, RedisError, OSError) as exc:
        FAIL_OPEN.inc()
        logger.error("rate limit cache unreachable, letting %s through: %s", client.key, exc)
        return Decision(allowed=True)
    if not decision.allowed:
        record_security_event(REFUSED_EVENT, audit=False, client=client.key, tier=client.tier)
    return decision


def _penalty_end(stored: Any) -> float | None:
    """A penalty's end in seconds from its cache key: stored as milliseconds (an int, which the rate
    window's script compares), or as seconds (a float) by the code before, whose keys live 30 minutes
    at most."""
    if stored is None:
        return None
    return stored / 1000 if type(stored) is int else float(stored)


def _seconds_left(ends_at: float | None, now: float) -> int:
    return 0 if ends_at is None else max(0, math.ceil(ends_at - now))


def penalty_retry_after(client: str, *, now: float | None = None) -> int:
    """Seconds left of the client's penalty window, 0 when it has none."""
    stored = strict_cache().get(_penalty_key(client))
    return _seconds_left(_penalty_end(stored), time.time() if now is None else now)


def penalty_check(client: Client) -> Decision:
    """Refused only while ``client`` has a penalty window; nothing is counted."""

    def check() -> Decision:
        left = penalty_retry_after(client.key)
        return Decision(allowed=not left, retry_after=left)

    return _fail_open(check, client)


def _escalate(client: Client, now: float) -> int:
    """Give ``client`` its next penalty window; returns its length in seconds."""
    level_key = _level_key(client.key)
    level = _count(level_key, LEVEL_TTL_SECONDS)
    strict_cache().touch(level_key, LEVEL_TTL_SECONDS)
    minutes = _penalty_minutes(level)
    seconds = minutes * 60
    strict_cache().set(_penalty_key(client.key), int((now + seconds) * 1000), seconds)
    started = datetime.fromtimestamp(now, tz=UTC)
    RatePenalty.objects.create(
        client=client.key,
        level=level,
        started_at=started,
        ends_at=datetime.fromtimestamp(now + seconds, tz=UTC),
    )
    record_security_event(PENALTY_EVENT, client=client.key, tier=client.tier, level=level, minutes=minutes)
    return seconds


def rate_check(client: Client, *, now: float | None = None) -> Decision:
    """Count one request of ``client`` and say whether it may go on (see the module docstring)."""
    moment = time.time() if now is None else now
    now_ms = int(moment * 1000)

    def check() -> Decision:
        penalty_ends_at, start_ms, count = _counted(client.key, now_ms)
        if penalty_ends_at is not None:
            # Refused for the penalty's time left (a key that outlived its end by a moment: over).
            left = _seconds_left(penalty_ends_at, moment)
            return Decision(allowed=not left, retry_after=left)
        limit = getattr(settings, TIER_SETTINGS[client.tier])
        if count <= limit:
            return Decision(allowed=True)
        # Exactly one request sees the second refusal of a window, so one process escalates, once.
        if _count(_refused_key(client.key, start_ms), COUNTER_TTL_SECONDS) == 2:
            return Decision(allowed=False, retry_after=_escalate(client, moment))
        left = math.ceil((start_ms + WINDOW_MS - now_ms) / 1000)
        return Decision(allowed=False, retry_after=min(WINDOW_SECONDS, max(1, left)))

    return _fail_open(check, client)


def penalty_lift(*, penalty: RatePenalty, by: object | None) -> None:
    """Staff forgive a client: its penalty, its level and this minute's count are gone."""
    with transaction.atomic():
        RatePenalty.objects.filter(client=penalty.client, lifted_at__isnull=True).update(
            lifted_at=timezone.now(), lifted_by=by if getattr(by, "pk", None) else None
        )
    # A new minute for the client: its old count would refuse (and escalate) it again at once.
    cache.delete_many(
        [_penalty_key(penalty.client), _level_key(penalty.client), f"rl:window:{penalty.client}"]
    )
    record_security_event("rate_limit_penalty_lifted", client=penalty.client, by=getattr(by, "pk", None))


def rate_limited_response(retry_after: int) -> HttpResponse:
    response = error_response(
        429,
        "rate_limited",
        f"Too many requests: try again in {retry_after} seconds.",
        {"retryAfter": retry_after},  # the same details as every other limiter (commerce.errors.RateLimited)
    )
    response["Retry-After"] = str(retry_after)
    return response


class AdminRateLimitMiddleware:
    """The staff tier on the admin, and any address's penalty window there too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/admin/"):
            user = getattr(request, "user", None)
            if getattr(user, "is_staff", False):
                decision = rate_check(client_for(user, None))
            else:  # the admin's sign-in page: login throttling has its own rules, a penalty holds here too
                decision = penalty_check(client_for(None, client_address(request)))
            if not decision.allowed:
                return rate_limited_response(decision.retry_after)
        return self.get_response(request)
