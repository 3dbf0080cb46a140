"""Suite-wide fixtures and the rule for tests that need real PostgreSQL or Redis.

Tests marked ``postgres`` or ``redis`` are skipped on the embedded run and run in CI's second pass.
With ``REQUIRE_SERVICES=1`` (that pass) a missing service fails the test instead of skipping it, so
these tests can never silently vanish.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from commerce import prepared as prepared_queries

# Property tests judge the code, not the machine: on a loaded 2-core runner input generation can take
# longer than Hypothesis' health check allows, which says nothing about the code under test.
hypothesis_settings.register_profile("suite", suppress_health_check=[HealthCheck.too_slow], deadline=None)
hypothesis_settings.load_profile("suite")

# Every use of a remembered query's SQL (commerce.prepared) is checked against a fresh build.
prepared_queries.VERIFY = True

# The fake model vendor (``fake_llm`` fixture) for any test that reaches a model; the faults rig; the
# embedded run's SQLite connections reading uncommitted (threads share its in-memory test database).
pytest_plugins = ["commerce.testing.fake_llm", "commerce.testing.faults", "commerce.testing.sqlite"]


def _missing_service(marker: str) -> str | None:
    if marker == "postgres" and not settings.USING_POSTGRES:
        return "needs PostgreSQL (set DATABASE_URL)"
    if marker == "redis" and not settings.REDIS_URL:
        return "needs Redis (set REDIS_URL)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("postgres", "redis"):
        if item.get_closest_marker(marker) is None:
            continue
        missing = _missing_service(marker)
        if missing is None:
            continue
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"{missing}, but REQUIRE_SERVICES=1: this test must run in this pass")
        pytest.skip(missing)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """PBKDF2 at Django's million rounds costs ~0.3 s a user; tests make thousands of users and test
    what a password does, not how expensive it is to guess. Production keeps the default hashers."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True, scope="session")
def _plain_http_rig():
    """The test client and the in-process Daphne speak plain HTTP, so CI's production-shaped pass is a
    plain-HTTP rig: the HTTPS redirect is off there as the README says for one. The redirect itself is
    tested with it on (commerce/tests/test_security.py)."""
    from django.test import override_settings

    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


@pytest.fixture(autouse=True, scope="session")
def _admin_features_without_the_code_step():
    """Tests of admin features sign staff in with ``force_login`` (a password-only session), which the
    production-shaped pass would send to the OTP step. The step itself is tested with it switched on:
    commerce/accounts/tests/test_mfa.py (every admin URL) and the Chromium tour in
    commerce/tests/test_browser_csp.py, which enrols an authenticator."""
    from django.test import override_settings

    with override_settings(ADMIN_MFA_REQUIRED=False):
        yield


@pytest.fixture(autouse=True, scope="session")
def _health_asks_every_time():
    """Fault tests read /health right after breaking a dependency: each call asks again. What it
    remembers in production (HEALTH_CHECK_CACHE_SECONDS) is tested with it on (commerce/tests/
    test_operations.py)."""
    from django.test import override_settings

    with override_settings(HEALTH_CHECK_CACHE_SECONDS=0):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached values must not leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def listing_version_reads(monkeypatch) -> list[bool]:
    """From now on, one entry per read of the catalog's cache: True when it read the listing version
    (every cached listing, search and product JSON is keyed by it), alone or with values read at it
    (``versioned_get``: one read, whatever it does inside)."""
    from catalog import selectors

    reads: list[bool] = []
    real_get, real_versioned_get = selectors.cache.get, selectors.versioned_get
    within_versioned_get: list[bool] = []

    def counting_get(key, *args, **kwargs):
        if not within_versioned_get:
            reads.append(key == selectors.LISTING_VERSION_KEY)
        return real_get(key, *args, **kwargs)

    def counting_versioned_get(version_key, stems):
        reads.append(version_key == selectors.LISTING_VERSION_KEY)
        within_versioned_get.append(True)
        try:
            return real_versioned_get(version_key, stems)
        finally:
            within_versioned_get.pop()

    monkeypatch.setattr(selectors.cache, "get", counting_get)
    monkeypatch.setattr(selectors, "versioned_get", counting_versioned_get)
    return reads


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user(db):
    from commerce.accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def auth_client(user):
    """An API client signed in as ``user`` with a JWT access token."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    client.user = user
    return client
