"""Recovery calls are counted on /metrics by outcome when the provider's callback really arrives, and
the scrape-time gauges (backlog) read the database as it is."""

from __future__ import annotations

import pytest
from django.test import Client

from commerce.testing.metrics import sample, scrape
from voice.models import JobState

from .factories import abandoned_cart, job_for, shopper
from .test_api import COMPLETED, calling_attempt, post  # noqa: F401  (calling_attempt: a fixture)

pytestmark = pytest.mark.django_db
CALLS = "commerce_voice_calls_total"


@pytest.mark.usefixtures("calling_attempt")
def test_a_completed_callback_counts_one_completed_call(settings, django_capture_on_commit_callbacks):
    before = scrape(Client(), settings)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(Client(), COMPLETED).status_code == 200
    after = scrape(Client(), settings)
    assert sample(after, CALLS, outcome="completed") == sample(before, CALLS, outcome="completed") + 1


@pytest.mark.usefixtures("calling_attempt")
def test_a_failed_callback_counts_one_failed_call(settings, django_capture_on_commit_callbacks):
    before = scrape(Client(), settings)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(Client(), {"call_uuid": "call-abc", "status": "no-answer"}).status_code == 200
    after = scrape(Client(), settings)
    assert sample(after, CALLS, outcome="failed") == sample(before, CALLS, outcome="failed") + 1


def test_the_backlog_gauge_reads_the_jobs_waiting_now(settings):
    job_for(abandoned_cart(shopper()))
    job_for(abandoned_cart(shopper(phone="+14155550999")), state=JobState.RETRYING)
    assert sample(scrape(Client(), settings), "commerce_voice_backlog") == 2
