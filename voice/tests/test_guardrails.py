"""Every guardrail at its boundary, with a frozen clock (time-machine)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from voice.guardrails import in_quiet_hours
from voice.models import CallAttempt, GuardrailDecision, JobState, RecoveryJob, Suppression
from voice.services import job_attempt_begin

from .factories import abandoned_cart, job_for, shopper

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def _due_job(user, now):
    cart = abandoned_cart(user, at=now - timedelta(hours=1))
    return job_for(cart, due=now)


def _run(job, now):
    attempt = job_attempt_begin(job_id=job.pk, now=now)
    job.refresh_from_db()
    return attempt


def _last_decision(job):
    return GuardrailDecision.objects.filter(job=job).first()


@pytest.mark.parametrize(
    ("hour", "quiet"),
    [(20, False), (21, True), (23, True), (0, True), (7, True), (8, False), (12, False)],
)
def test_quiet_hours_cross_midnight(hour, quiet):
    assert in_quiet_hours(hour, 21, 8) is quiet


def test_quiet_hours_within_one_day_and_disabled_when_equal():
    assert in_quiet_hours(13, 13, 15) and in_quiet_hours(14, 13, 15)
    assert not in_quiet_hours(15, 13, 15) and not in_quiet_hours(12, 13, 15)
    assert not any(in_quiet_hours(h, 9, 9) for h in range(24))


def test_call_allowed_one_minute_before_quiet_hours():
    now = datetime(2026, 3, 10, 20, 59, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        job = _due_job(shopper(), now)
        attempt = _run(job, now)
    assert attempt is not None and job.state == JobState.CALLING


def test_job_at_quiet_hours_start_is_deferred_to_next_morning_not_dropped():
    now = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        job = _due_job(shopper(), now)
        assert _run(job, now) is None
    assert job.state == JobState.SCHEDULED
    assert job.next_attempt_at == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    decision = _last_decision(job)
    assert decision.rule == "quiet_hours" and decision.action == "deferred"


def test_job_just_after_midnight_is_deferred_to_the_same_morning():
    now = datetime(2026, 3, 11, 7, 59, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        job = _due_job(shopper(), now)
        _run(job, now)
    assert job.next_attempt_at == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)


def test_quiet_hours_use_the_shoppers_time_zone():
    # 02:00 UTC is 21:00 the evening before in New York (EST, UTC-5): quiet there, not in London.
    now = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        new_york = _due_job(shopper(timezone="America/New_York"), now)
        tokyo = _due_job(shopper(timezone="Asia/Tokyo", phone="+81312345678"), now)  # 11:00 in Tokyo
        _run(new_york, now)
        _run(tokyo, now)
    assert new_york.state == JobState.SCHEDULED
    assert new_york.next_attempt_at == datetime(2026, 1, 15, 8, 0, tzinfo=ZoneInfo("America/New_York"))
    assert tokyo.state == JobState.CALLING


def test_shopper_without_time_zone_uses_the_default(settings):
    settings.VOICE_DEFAULT_TIMEZONE = "Asia/Kolkata"  # UTC+5:30
    now = datetime(2026, 1, 15, 16, 0, tzinfo=UTC)  # 21:30 in Kolkata
    with time_machine.travel(now, tick=False):
        job = _due_job(shopper(timezone=""), now)
        _run(job, now)
    assert job.state == JobState.SCHEDULED
    assert job.next_attempt_at == datetime(2026, 1, 16, 8, 0, tzinfo=ZoneInfo("Asia/Kolkata"))


def _earlier_calls(user, count, at):
    """``count`` calls to ``user`` placed at ``at`` by an older, finished job."""
    old = RecoveryJob.objects.create(
        user=user,
        recovery_key=f"old-{user.pk}-{at.isoformat()}",
        cart_updated_at=at,
        state=JobState.COMPLETED,
    )
    for n in range(1, count + 1):
        CallAttempt.objects.create(
            job=old, number=n, provider="simulator", script_version="v1", script="-", created_at=at
        )


def test_per_user_daily_cap_boundary_and_deferral_to_the_next_local_day(settings):
    settings.VOICE_MAX_CALLS_PER_USER_PER_DAY = 2
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        below, at_cap = shopper(), shopper(phone="+14155550999")
        _earlier_calls(below, 1, now - timedelta(hours=2))
        _earlier_calls(at_cap, 2, now - timedelta(hours=2))
        allowed, refused = _due_job(below, now), _due_job(at_cap, now)
        assert _run(allowed, now) is not None
        assert _run(refused, now) is None
    assert refused.state == JobState.SCHEDULED
    assert _last_decision(refused).rule == "user_daily_cap"
    assert refused.next_attempt_at == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)  # midnight is quiet: 08:00


def test_per_user_cap_counts_the_shoppers_local_day():
    # 10:00 in Tokyo on 11 March is 01:00 UTC; calls at 23:00 UTC on 10 March were 08:00 Tokyo, same day.
    now = datetime(2026, 3, 11, 1, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        user = shopper(timezone="Asia/Tokyo")
        _earlier_calls(user, 2, datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
        job = _due_job(user, now)
        assert _run(job, now) is None
    assert _last_decision(job).rule == "user_daily_cap"
    assert job.next_attempt_at == datetime(2026, 3, 12, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_global_daily_cap_boundary(settings):
    settings.VOICE_MAX_CALLS_PER_DAY = 2
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        jobs = [_due_job(shopper(phone=f"+1415555010{i}"), now) for i in range(3)]
        results = [_run(job, now) for job in jobs]
    assert [r is not None for r in results] == [True, True, False]
    assert _last_decision(jobs[2]).rule == "global_daily_cap"
    assert jobs[2].next_attempt_at == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)


def test_daily_budget_counts_the_call_about_to_be_placed(settings):
    # 2 calls x 0.70 = 1.40 fits a 1.50 budget; a third would be 2.10.
    settings.VOICE_DAILY_BUDGET_USD = "1.50"
    settings.VOICE_ESTIMATED_COST_PER_CALL_USD = "0.70"
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        jobs = [_due_job(shopper(phone=f"+1415555020{i}"), now) for i in range(3)]
        results = [_run(job, now) for job in jobs]
    assert [r is not None for r in results] == [True, True, False]
    decision = _last_decision(jobs[2])
    assert decision.rule == "daily_budget" and "2.10" in decision.detail


def test_budget_exactly_met_is_allowed(settings):
    settings.VOICE_DAILY_BUDGET_USD = "1.40"
    settings.VOICE_ESTIMATED_COST_PER_CALL_USD = "0.70"
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        jobs = [_due_job(shopper(phone=f"+1415555030{i}"), now) for i in range(2)]
        assert all(_run(job, now) is not None for job in jobs)


def test_suppressed_shopper_is_never_called_and_the_reason_is_recorded():
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    user = shopper()
    with time_machine.travel(now, tick=False):
        job = _due_job(user, now)
        Suppression.objects.create(user=user)
        assert _run(job, now) is None
    assert job.state == JobState.CANCELLED and job.cancel_reason == "suppressed"
    assert not CallAttempt.objects.exists()


def test_kill_switch_cancels_and_nothing_dials(settings):
    settings.VOICE_GLOBAL_KILL_SWITCH = True
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        job = _due_job(shopper(), now)
        assert _run(job, now) is None
    assert job.state == JobState.CANCELLED
    assert _last_decision(job).rule == "kill_switch"
    assert not CallAttempt.objects.exists()


@pytest.mark.parametrize(
    ("fields", "rule"), [({"voice_opt_in": False}, "no_consent"), ({"phone": ""}, "no_phone")]
)
def test_consent_withdrawn_or_phone_removed_cancels(fields, rule):
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        user = shopper()
        job = _due_job(user, now)
        for name, value in fields.items():
            setattr(user, name, value)
        user.save()
        assert _run(job, now) is None
    assert job.state == JobState.CANCELLED and job.cancel_reason == rule


def test_cart_changed_after_detection_cancels_at_attempt_time():
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        job = _due_job(shopper(), now)
        type(job.cart).objects.filter(pk=job.cart_id).update(updated_at=now)
        assert _run(job, now) is None
    assert job.cancel_reason == "cart_changed"


def test_job_not_yet_due_is_left_alone():
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        job = _due_job(shopper(), now + timedelta(minutes=5))
        job.next_attempt_at = now + timedelta(minutes=5)
        job.save()
        assert _run(job, now) is None
    assert job.state == JobState.QUEUED and not GuardrailDecision.objects.exists()
    assert RecoveryJob.objects.count() == 1
