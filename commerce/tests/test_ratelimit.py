"""Three rate tiers, growing penalty windows, lifting them in the admin, and failing open without a cache."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client, override_settings
from prometheus_client import REGISTRY
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from commerce import ratelimit
from commerce.accounts.models import RatePenalty
from commerce.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/products"
START = datetime(2026, 12, 4, 12, 0, 10, tzinfo=UTC)


def _events(kind: str) -> float:
    return REGISTRY.get_sample_value("commerce_security_events_total", {"kind": kind}) or 0.0


def _signed_in(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def _allowed_before_refusal(client, limit_guard: int = 50) -> int:
    for sent in range(limit_guard):
        if client.get(URL).status_code == 429:
            return sent
    raise AssertionError("never refused")


@override_settings(
    RATE_LIMIT_ANONYMOUS_PER_MINUTE=2, RATE_LIMIT_AUTHENTICATED_PER_MINUTE=4, RATE_LIMIT_ADMIN_PER_MINUTE=6
)
def test_each_tier_has_its_own_budget_per_client():
    assert _allowed_before_refusal(APIClient()) == 2
    assert _allowed_before_refusal(_signed_in(UserFactory())) == 4
    assert _allowed_before_refusal(_signed_in(UserFactory(is_staff=True))) == 6
    # a second signed-in user is a client of its own, untouched by the first one's refusals
    assert _signed_in(UserFactory()).get(URL).status_code == 200


@override_settings(RATE_LIMIT_ANONYMOUS_PER_MINUTE=2)
def test_a_refusal_is_the_contracts_429_with_the_seconds_left_of_the_minute():
    client = APIClient()
    with time_machine.travel(START, tick=False) as clock:
        assert client.get(URL).status_code == 200
        clock.shift(20)
        assert client.get(URL).status_code == 200
        refused = client.get(URL)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    # the client's minute began with its first request, 20 seconds ago
    assert refused["Retry-After"] == "40"
    assert refused.json()["error"]["details"] == {"retryAfter": 40}  # the shape every limiter answers
    assert not RatePenalty.objects.exists()


@override_settings(RATE_LIMIT_ANONYMOUS_PER_MINUTE=2, RATE_LIMIT_PENALTY_MINUTES=[1, 5, 30])
def test_a_client_refused_again_gets_penalty_windows_that_grow(caplog):
    client = APIClient()
    events_before = _events("rate_limit_penalty")
    caplog.set_level(logging.WARNING, logger="commerce.security")

    def burst() -> str:
        """Two allowed, one refused, one more refused while refused: the last one's Retry-After."""
        assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 429]
        again = client.get(URL)
        assert again.status_code == 429 and again.json()["error"]["code"] == "rate_limited"
        return again["Retry-After"]

    with time_machine.travel(START, tick=False) as clock:
        assert burst() == "60"
        clock.shift(30)
        during = client.get(URL)  # every request in the window is refused, with the time left
        assert during.status_code == 429 and during["Retry-After"] == "30"
        clock.shift(31)
        assert burst() == str(5 * 60)
        clock.shift(5 * 60 + 1)
        assert burst() == str(30 * 60)
        clock.shift(30 * 60 + 1)
        assert burst() == str(30 * 60)  # the last length repeats

    penalties = list(RatePenalty.objects.order_by("started_at"))
    assert [p.level for p in penalties] == [1, 2, 3, 4]
    assert {p.client for p in penalties} == {"ip:127.0.0.1"}
    assert [(p.ends_at - p.started_at).total_seconds() for p in penalties] == [60, 300, 1800, 1800]
    assert _events("rate_limit_penalty") == events_before + 4
    assert sum("security event rate_limit_penalty" in r.getMessage() for r in caplog.records) == 4


@override_settings(RATE_LIMIT_ANONYMOUS_PER_MINUTE=1)
def test_staff_lift_a_penalty_in_the_admin_and_the_client_is_served_again():
    shopper = APIClient()
    assert [shopper.get(URL).status_code for _ in range(3)] == [200, 429, 429]
    penalty = RatePenalty.objects.get()
    assert penalty.is_active()

    staff = UserFactory(is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)
    listing = admin.get("/admin/accounts/ratepenalty/?state=active")
    assert listing.status_code == 200 and "ip:127.0.0.1" in listing.content.decode()

    lifted = admin.post(
        "/admin/accounts/ratepenalty/", {"action": "lift", "_selected_action": [penalty.pk]}, follow=True
    )
    assert lifted.status_code == 200
    penalty.refresh_from_db()
    assert penalty.lifted_by == staff and not penalty.is_active()
    assert "ip:127.0.0.1" not in admin.get("/admin/accounts/ratepenalty/?state=active").content.decode()
    assert shopper.get(URL).status_code == 200


@override_settings(RATE_LIMIT_ADMIN_PER_MINUTE=3, RATE_LIMIT_ANONYMOUS_PER_MINUTE=1000)
def test_the_admin_has_the_staff_tier_shared_with_the_api():
    staff = UserFactory(is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)
    assert admin.get("/admin/").status_code == 200
    assert _signed_in(staff).get(URL).status_code == 200
    assert admin.get("/admin/").status_code == 200
    refused = admin.get("/admin/")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) > 0


@override_settings(RATE_LIMIT_ANONYMOUS_PER_MINUTE=1)
def test_an_address_under_penalty_is_refused_on_the_admin_sign_in_page_too():
    browser = Client()
    assert browser.get("/admin/login/").status_code == 200
    api = APIClient()
    assert [api.get(URL).status_code for _ in range(3)] == [200, 429, 429]
    refused = browser.get("/admin/login/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) == 60
    assert refused.json()["error"] == {
        "code": "rate_limited",
        "message": "Too many requests: try again in 60 seconds.",
        "details": {"retryAfter": 60},
    }


CLOSED_PORT_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # a port of this suite's range where nothing listens: the cache refuses every connection
        "LOCATION": "redis://127.0.0.1:18699/0",
    }
}


def test_with_the_cache_unreachable_the_api_fails_open_with_a_log_line_and_a_counter(caplog):
    user = UserFactory()
    before = REGISTRY.get_sample_value("commerce_rate_limit_fail_open_total") or 0.0
    caplog.set_level(logging.ERROR, logger="commerce.ratelimit")
    with override_settings(CACHES=CLOSED_PORT_CACHE):
        login = APIClient().post(
            "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
        )
        listing = APIClient().get(URL)
    assert login.status_code == 200, login.content
    assert login.json()["accessToken"]
    assert listing.status_code == 200
    assert (REGISTRY.get_sample_value("commerce_rate_limit_fail_open_total") or 0.0) >= before + 2
    assert any("rate limit cache unreachable" in r.getMessage() for r in caplog.records)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@override_settings(RATE_LIMIT_AUTHENTICATED_PER_MINUTE=50)
def test_concurrent_requests_on_redis_are_counted_exactly_once_each():
    """Many threads (each its own Redis connection, like separate processes) share one budget."""
    client = ratelimit.Client(key="user:race", tier="authenticated")
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        try:
            for _ in range(10):
                allowed = ratelimit.rate_check(client).allowed
                with lock:
                    results.append(allowed)
        finally:
            connection.close()  # the escalating thread wrote the penalty through a connection of its own

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 50 and len(results) == 80
    # the 30 refusals escalated once: one penalty, level 1
    assert list(RatePenalty.objects.values_list("level", flat=True)) == [1]


@pytest.mark.redis
@override_settings(RATE_LIMIT_AUTHENTICATED_PER_MINUTE=3)
def test_on_redis_a_request_is_checked_in_one_round_trip(monkeypatch):
    """The penalty, the minute's start and the count: one script call (EVALSHA) for an allowed request."""
    from django.core.cache import caches

    client = ratelimit.Client(key="user:one-trip", tier="authenticated")
    redis_client = caches["default"]._cache.get_client(write=True)
    sent: list[str] = []
    real_execute = redis_client.execute_command

    def counting_execute(*args, **kwargs):
        sent.append(args[0])
        return real_execute(*args, **kwargs)

    real_pipeline = redis_client.pipeline

    def counting_pipeline(*args, **kwargs):
        sent.append("pipeline")
        return real_pipeline(*args, **kwargs)

    monkeypatch.setattr(redis_client, "execute_command", counting_execute)
    monkeypatch.setattr(redis_client, "pipeline", counting_pipeline)
    ratelimit.rate_check(client)  # may load the script first
    sent.clear()
    assert [ratelimit.rate_check(client).allowed for _ in range(2)] == [True, True]
    assert sent == ["EVALSHA", "EVALSHA"]
    refused = ratelimit.rate_check(client)
    assert not refused.allowed and 1 <= refused.retry_after <= 60


@pytest.mark.redis
@override_settings(RATE_LIMIT_AUTHENTICATED_PER_MINUTE=1)
def test_keys_stored_before_one_round_trip_keep_their_meaning():
    """A deploy meets keys the code before stored as floats (seconds): a penalty still refuses for its
    time left, and a minute's start that is not milliseconds starts a minute now."""
    from django.core.cache import caches

    cache = caches["default"]
    now = 1_800_000_000.25
    client = ratelimit.Client(key="user:older-keys", tier="authenticated")
    cache.set(f"rl:penalty:{client.key}", now + 90.5, 120)
    refused = ratelimit.rate_check(client, now=now)
    assert (refused.allowed, refused.retry_after) == (False, 91)
    assert ratelimit.penalty_retry_after(client.key, now=now) == 91

    cache.delete(f"rl:penalty:{client.key}")
    cache.set(f"rl:window:{client.key}", now - 5.0, 60)
    assert ratelimit.rate_check(client, now=now).allowed  # a minute of its own from now: the first
    assert cache.get(f"rl:window:{client.key}") == int(now * 1000)
    assert not ratelimit.rate_check(client, now=now + 1).allowed
