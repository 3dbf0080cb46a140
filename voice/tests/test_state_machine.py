"""The job state machine, attempts written before dialling, retries with backoff, dead letter."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from voice.models import AttemptStatus, CallAttempt, JobState
from voice.providers import ProviderCall, ProviderError
from voice.selectors import voice_config
from voice.services import (
    IllegalTransition,
    attempt_dial,
    expire_stale_calls,
    job_attempt_begin,
    job_cancel,
    job_complete,
    job_dead_letter,
    job_requeue,
)

from .factories import abandoned_cart, job_for, shopper

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("UTC"))


class FailingProvider:
    name = "fake"

    def __init__(self):
        self.calls = 0

    def place_call(self, request):
        self.calls += 1
        raise ProviderError(f"boom {self.calls}")


class AcceptingProvider:
    name = "fake"

    def __init__(self):
        self.requests = []

    def place_call(self, request):
        self.requests.append(request)
        return ProviderCall(call_id=f"call-{len(self.requests)}")


def _job(state=JobState.QUEUED, now=NOON):
    return job_for(abandoned_cart(shopper(), at=now - timedelta(hours=1)), state=state, due=now)


@pytest.mark.parametrize(
    ("state", "move"),
    [
        (JobState.COMPLETED, lambda j: job_cancel(job_id=j.pk, reason="staff")),
        (JobState.CANCELLED, lambda j: job_requeue(job_id=j.pk)),
        (JobState.QUEUED, lambda j: job_complete(job_id=j.pk, outcome="x", summary="", now=NOON)),
        (JobState.QUEUED, lambda j: job_dead_letter(job_id=j.pk, error="x")),
        (JobState.COMPLETED, lambda j: job_requeue(job_id=j.pk)),
    ],
)
def test_illegal_transitions_are_refused(state, move):
    job = _job(state)
    with pytest.raises(IllegalTransition):
        move(job)
    job.refresh_from_db()
    assert job.state == state


def test_attempt_row_is_written_before_dialling_and_holds_the_script():
    with time_machine.travel(NOON, tick=False):
        job = _job()
        attempt = job_attempt_begin(job_id=job.pk, now=NOON)
    job.refresh_from_db()
    assert job.state == JobState.CALLING and job.attempts == 1
    assert attempt.status == AttemptStatus.PENDING and attempt.number == 1
    assert "Ada" in attempt.script and "59.98 USD" in attempt.script  # 49.99 + 8% tax + 5.99
    assert "1 x Product" and attempt.recovery_code in attempt.script
    assert attempt.script_version == "v1"


def test_dialling_twice_the_same_attempt_places_one_call():
    provider = AcceptingProvider()
    with time_machine.travel(NOON, tick=False):
        attempt = job_attempt_begin(job_id=_job().pk, now=NOON)
        first = attempt_dial(attempt_id=attempt.pk, provider=provider, now=NOON)
        again = attempt_dial(attempt_id=attempt.pk, provider=provider, now=NOON)  # a redelivered task
    assert len(provider.requests) == 1
    assert first.status == again.status == AttemptStatus.ACCEPTED
    assert first.provider_call_id == "call-1"
    request = provider.requests[0]
    assert request.to == "+14155550123" and request.variable_values["recovery_code"] == attempt.recovery_code


def test_a_claimed_attempt_whose_worker_died_is_not_redialled_but_expires():
    provider = AcceptingProvider()
    with time_machine.travel(NOON, tick=False):
        attempt = job_attempt_begin(job_id=_job().pk, now=NOON)
        # The worker claimed it (pending -> dialing) and was killed before the provider answered.
        CallAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.DIALING)
        attempt_dial(attempt_id=attempt.pk, provider=provider, now=NOON)
    assert provider.requests == []
    later = NOON + timedelta(minutes=31)
    assert expire_stale_calls(now=later, config=voice_config()) == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FAILED and "not dialled again" in attempt.error
    assert attempt.job.state == JobState.RETRYING


def test_failed_attempts_retry_with_backoff_then_dead_letter_with_the_last_error():
    provider = FailingProvider()
    now = NOON
    job = _job(now=now)
    expected_delays = [60, 300]
    for number in (1, 2, 3):
        with time_machine.travel(now, tick=False):
            attempt = job_attempt_begin(job_id=job.pk, now=now)
            assert attempt is not None and attempt.number == number
            attempt_dial(attempt_id=attempt.pk, provider=provider, now=now)
        job.refresh_from_db()
        if number < 3:
            assert job.state == JobState.RETRYING
            assert job.next_attempt_at == now + timedelta(seconds=expected_delays[number - 1])
            with time_machine.travel(now, tick=False):
                assert job_attempt_begin(job_id=job.pk, now=now) is None  # not due before the backoff
            now = job.next_attempt_at
    assert job.state == JobState.DEAD_LETTER
    assert job.last_error == "boom 3" and job.attempts == 3
    assert provider.calls == 3


def test_staff_retry_gives_a_dead_lettered_job_one_more_attempt():
    job = _job(JobState.DEAD_LETTER)
    job.attempts = 3
    job.save()
    with time_machine.travel(NOON, tick=False):
        job_requeue(job_id=job.pk, now=NOON)
        attempt = job_attempt_begin(job_id=job.pk, now=NOON)
    assert attempt.number == 4


def test_kill_switch_turned_on_between_writing_and_dialling_stops_the_call(settings):
    provider = AcceptingProvider()
    with time_machine.travel(NOON, tick=False):
        attempt = job_attempt_begin(job_id=_job().pk, now=NOON)
        settings.VOICE_GLOBAL_KILL_SWITCH = True
        result = attempt_dial(attempt_id=attempt.pk, provider=provider, now=NOON)
    assert provider.requests == []
    assert result.status == AttemptStatus.FAILED
    assert result.job.state == JobState.CANCELLED
