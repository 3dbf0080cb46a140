from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _voice_test_settings(settings):
    """Voice tests run the simulator's callback at once and in-process, and use BRIEF.md's defaults."""
    settings.VOICE_SIMULATOR_CALLBACK_DELAY_SECONDS = 0
    settings.VOICE_SIMULATOR_CALLBACK_URL = ""
    settings.SUPERU_ENABLED = False
    settings.SUPERU_WEBHOOK_SECRET = "test-webhook-secret"
    settings.VOICE_GLOBAL_KILL_SWITCH = False
    settings.VOICE_ABANDONMENT_MINUTES = 30
    settings.VOICE_QUIET_HOURS_START = 21
    settings.VOICE_QUIET_HOURS_END = 8
    settings.VOICE_DEFAULT_TIMEZONE = "UTC"
    settings.VOICE_MAX_ATTEMPTS_PER_CART = 3
    settings.VOICE_MAX_CALLS_PER_USER_PER_DAY = 2
    settings.VOICE_MAX_CALLS_PER_DAY = 300
    settings.VOICE_DAILY_BUDGET_USD = "300"
    settings.VOICE_ESTIMATED_COST_PER_CALL_USD = "0.7"
    settings.VOICE_RETRY_BACKOFF_SECONDS_CSV = "60,300,900"
    settings.VOICE_CELERY_QUEUE = ""
    # Tasks run in the test's process (the Redis pass too); test_worker.py uses a real worker on purpose.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return settings


@pytest.fixture
def anytime(settings):
    """No quiet hours: for tests about something else that must not depend on the wall clock."""
    settings.VOICE_QUIET_HOURS_START = 0
    settings.VOICE_QUIET_HOURS_END = 0
    return settings


@pytest.fixture
def staff_client(client):
    from commerce.accounts.tests.factories import UserFactory

    admin = UserFactory(is_staff=True, is_superuser=True, email="boss@example.com")
    client.force_login(admin)
    return client
