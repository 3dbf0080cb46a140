"""Attribution of orders to completed calls, alerts with their gauges, recovery codes, settings."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from carts.models import CartLine
from voice.models import (
    AttemptStatus,
    CallAttempt,
    JobState,
    RecoveryCode,
    RecoveryJob,
    VoiceAlert,
    VoiceSettings,
)
from voice.receivers import record_order_for_attribution
from voice.selectors import voice_config
from voice.services import (
    alerts_evaluate,
    attribution_record_order,
    recovery_code_redeem,
    voice_settings_save,
)

from .factories import abandoned_cart, job_for, shopper

pytestmark = pytest.mark.django_db


def _completed_job(user, hours_ago: float) -> RecoveryJob:
    cart = abandoned_cart(user)
    return job_for(cart, state=JobState.COMPLETED, completed_at=timezone.now() - timedelta(hours=hours_ago))


def test_order_within_the_window_marks_the_job_recovered_with_the_order_total():
    user = shopper()
    job = _completed_job(user, hours_ago=47)
    attribution_record_order(user_id=user.pk, order_number="4F7K2Q", amount=Decimal("59.98"))
    job.refresh_from_db()
    assert job.recovered and job.recovered_order_number == "4F7K2Q"
    assert job.recovered_amount == Decimal("59.98")


def test_order_after_the_window_is_not_attributed():
    user = shopper()
    job = _completed_job(user, hours_ago=49)
    assert attribution_record_order(user_id=user.pk, order_number="X", amount=Decimal("10")) is None
    job.refresh_from_db()
    assert not job.recovered


def test_another_shoppers_order_is_not_attributed():
    job = _completed_job(shopper(), hours_ago=1)
    attribution_record_order(user_id=shopper(phone="+14155550111").pk, order_number="X", amount=Decimal("10"))
    job.refresh_from_db()
    assert not job.recovered


def test_an_order_cancels_the_shoppers_pending_job():
    user = shopper()
    pending = job_for(abandoned_cart(user))
    attribution_record_order(user_id=user.pk, order_number="X", amount=Decimal("10"))
    pending.refresh_from_db()
    assert pending.state == JobState.CANCELLED and pending.cancel_reason == "checked_out"


def test_order_signal_receiver_attributes_after_commit(django_capture_on_commit_callbacks):
    user = shopper()
    job = _completed_job(user, hours_ago=2)
    order = SimpleNamespace(
        pk=9, user_id=user.pk, number="ABC123", total=Decimal("12.50"), created_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        record_order_for_attribution(order)
    job.refresh_from_db()
    assert job.recovered and job.recovered_order_number == "ABC123"


def _attempts(count: int, status: str) -> None:
    user = shopper(phone=f"+1415556{RecoveryJob.objects.count():04d}")
    job = RecoveryJob.objects.create(
        user=user, recovery_key=f"k{user.pk}", cart_updated_at=timezone.now(), state=JobState.COMPLETED
    )
    for n in range(1, count + 1):
        CallAttempt.objects.create(
            job=job, number=n, provider="simulator", script_version="v1", script="-", status=status
        )


def test_backlog_above_threshold_raises_one_alert_a_log_line_and_a_gauge(settings, caplog):
    settings.VOICE_ALERT_BACKLOG_THRESHOLD = 2
    for i in range(3):
        job_for(abandoned_cart(shopper(phone=f"+141555507{i:02d}")))
    report = alerts_evaluate()
    assert report.raised == ["backlog"]
    assert "voice alert backlog" in caplog.text
    assert REGISTRY.get_sample_value("commerce_voice_backlog") == 3
    assert REGISTRY.get_sample_value("commerce_voice_open_alerts") == 1
    assert alerts_evaluate().raised == []  # still open: not duplicated
    assert VoiceAlert.objects.filter(kind="backlog").count() == 1


def test_backlog_at_the_threshold_is_fine_and_an_open_alert_resolves(settings):
    settings.VOICE_ALERT_BACKLOG_THRESHOLD = 2
    jobs = [job_for(abandoned_cart(shopper(phone=f"+141555508{i:02d}"))) for i in range(3)]
    alerts_evaluate()
    RecoveryJob.objects.filter(pk=jobs[0].pk).update(state=JobState.CANCELLED)
    assert alerts_evaluate().raised == []
    assert VoiceAlert.objects.get().resolved_at is not None


def test_failure_ratio_above_threshold_raises_an_alert(settings):
    settings.VOICE_ALERT_FAILURE_RATIO_THRESHOLD = "0.35"
    _attempts(4, AttemptStatus.FAILED)
    _attempts(6, AttemptStatus.COMPLETED)  # 0.40 > 0.35
    report = alerts_evaluate()
    assert report.failure_ratio == Decimal("0.400") and "failure_ratio" in report.raised
    assert REGISTRY.get_sample_value("commerce_voice_failure_ratio") == pytest.approx(0.4)


def test_failure_ratio_at_threshold_does_not_alert(settings):
    settings.VOICE_ALERT_FAILURE_RATIO_THRESHOLD = "0.40"
    _attempts(4, AttemptStatus.FAILED)
    _attempts(6, AttemptStatus.COMPLETED)
    assert "failure_ratio" not in alerts_evaluate().raised


def test_admin_settings_override_the_environment_and_kill_switch_cancels_pending_jobs():
    pending = job_for(abandoned_cart(shopper()))
    voice_settings_save(row=VoiceSettings(kill_switch=True, max_calls_per_day=5))
    config = voice_config()
    assert config.kill_switch and config.max_calls_per_day == 5
    assert config.max_calls_per_user_per_day == 2  # empty field: the environment's value
    pending.refresh_from_db()
    assert pending.state == JobState.CANCELLED and pending.cancel_reason == "kill_switch"


def test_recovery_code_restores_an_emptied_cart_for_its_shopper_only(anytime):
    from commerce.errors import NotFound
    from voice.services import job_attempt_begin

    user = shopper()
    cart = abandoned_cart(user, lines=2)
    job = job_for(cart)
    attempt = job_attempt_begin(job_id=job.pk)
    code = RecoveryCode.objects.get(job=job)
    assert code.code == attempt.recovery_code and len(code.lines) == 2
    with pytest.raises(NotFound):
        recovery_code_redeem(code=code.code, user=shopper(phone="+14155550222"))
    CartLine.objects.filter(cart=cart).delete()
    redemption = recovery_code_redeem(code=code.code.lower(), user=user)
    assert redemption.restored_lines == 2 and CartLine.objects.filter(cart=cart).count() == 2
    code.refresh_from_db()
    assert code.used_at is not None


def test_recovery_code_is_used_once_and_not_after_it_expires(anytime):
    from commerce.errors import NotFound
    from voice.errors import RecoveryCodeUsed
    from voice.services import job_attempt_begin

    user = shopper()
    cart = abandoned_cart(user, lines=1)
    job_attempt_begin(job_id=job_for(cart).pk)
    code = RecoveryCode.objects.get(job__cart=cart)
    CartLine.objects.filter(cart=cart).delete()
    assert recovery_code_redeem(code=code.code, user=user).restored_lines == 1
    CartLine.objects.filter(cart=cart).delete()
    with pytest.raises(RecoveryCodeUsed):
        recovery_code_redeem(code=code.code, user=user)
    assert not CartLine.objects.filter(cart=cart).exists()
    with pytest.raises(NotFound):
        recovery_code_redeem(code=code.code, user=user, now=code.expires_at)
