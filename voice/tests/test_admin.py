"""The back office: job actions, the stats page with its SVG charts, settings, suppressions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from commerce.accounts.tests.factories import UserFactory
from commerce.audit.models import AuditEvent
from voice.models import CallAttempt, JobState, RecoveryJob, Suppression, VoiceSettings

from .factories import abandoned_cart, job_for, shopper

pytestmark = pytest.mark.django_db


def _action(client, action, jobs):
    return client.post(
        reverse("admin:voice_recoveryjob_changelist"),
        {"action": action, "_selected_action": [j.pk for j in jobs]},
        follow=True,
    )


def test_jobs_list_filters_and_links_the_stats_page(staff_client):
    job_for(abandoned_cart(shopper()))
    response = staff_client.get(reverse("admin:voice_recoveryjob_changelist"), {"state__exact": "queued"})
    assert response.status_code == 200
    assert reverse("admin:voice_recoveryjob_stats") in response.content.decode()


def test_retry_now_makes_a_dead_lettered_job_due(staff_client):
    job = job_for(abandoned_cart(shopper()), state=JobState.DEAD_LETTER)
    _action(staff_client, "retry_now", [job])
    job.refresh_from_db()
    assert job.state == JobState.RETRYING and job.next_attempt_at <= timezone.now()


def test_cancel_action_cancels_and_reports_finished_ones(staff_client):
    pending = job_for(abandoned_cart(shopper()))
    done = job_for(abandoned_cart(shopper(phone="+14155550333")), state=JobState.COMPLETED)
    response = _action(staff_client, "cancel_jobs", [pending, done])
    pending.refresh_from_db()
    assert pending.state == JobState.CANCELLED
    assert "already finished" in response.content.decode()


def test_process_now_scans_and_places_calls_without_a_selection(
    staff_client, anytime, settings, django_capture_on_commit_callbacks
):
    settings.VOICE_ABANDONMENT_MINUTES = 0
    settings.VOICE_RECOVERY_SCHEDULER_ENABLED = False  # a person pressing the button overrides the schedule
    due = job_for(abandoned_cart(shopper()), due=timezone.now() - timedelta(seconds=1))
    fresh_cart = abandoned_cart(shopper(phone="+14155550444"))
    listing = staff_client.get(reverse("admin:voice_recoveryjob_changelist")).content.decode()
    assert reverse("admin:voice_recoveryjob_process_now") in listing and "Scan and process now" in listing

    # Work handed to Celery runs after commit (commerce.celery.enqueue); the test's transaction never
    # commits, so its callbacks are run here as a commit would.
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:voice_recoveryjob_process_now"), follow=True)

    assert "Scanned: 1 new job(s)" in response.content.decode()
    assert CallAttempt.objects.filter(job=due).count() == 1
    scanned = RecoveryJob.objects.get(cart=fresh_cart)
    assert CallAttempt.objects.filter(job=scanned).count() == 1
    assert AuditEvent.objects.filter(action="admin.voice_process_now").count() == 1


def test_process_now_is_refused_without_the_place_call_permission(client):
    clerk = UserFactory(is_staff=True, email="clerk@example.com")
    clerk.user_permissions.add(Permission.objects.get(codename="view_recoveryjob"))
    client.force_login(clerk)
    job = job_for(abandoned_cart(shopper()), due=timezone.now() - timedelta(seconds=1))
    listing = client.get(reverse("admin:voice_recoveryjob_changelist")).content.decode()
    assert "Scan and process now" not in listing
    assert client.post(reverse("admin:voice_recoveryjob_process_now")).status_code == 403
    assert client.get(reverse("admin:voice_recoveryjob_process_now")).status_code == 405
    assert not CallAttempt.objects.filter(job=job).exists()


def test_stats_page_draws_svg_charts_without_javascript(staff_client):
    job = job_for(abandoned_cart(shopper()), state=JobState.COMPLETED, recovered=True)
    RecoveryJob.objects.filter(pk=job.pk).update(recovered_amount="59.98", recovered_at=timezone.now())
    CallAttempt.objects.create(
        job=job, number=1, provider="simulator", script_version="v1", script="-", status="completed"
    )
    response = staff_client.get(reverse("admin:voice_recoveryjob_stats"), {"days": "7"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<svg class="voice-chart"') == 5
    assert "59.98" in html and "budget 300.00" in html
    assert "cdn" not in html.lower()


def test_stats_page_needs_staff(client):
    response = client.get(reverse("admin:voice_recoveryjob_stats"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_settings_page_edits_the_single_row_and_shows_environment_values(staff_client):
    response = staff_client.get(reverse("admin:voice_voicesettings_changelist"), follow=True)
    assert response.status_code == 200
    assert "VOICE_MAX_CALLS_PER_DAY = 300" in response.content.decode()
    row = VoiceSettings.objects.get()
    response = staff_client.post(
        reverse("admin:voice_voicesettings_change", args=[row.pk]),
        {"max_calls_per_day": "7", "script_template": "Hi {name}, code {code}"},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.max_calls_per_day == 7


def test_settings_refuse_a_template_that_does_not_format(staff_client):
    row = VoiceSettings.objects.create(pk=1)
    response = staff_client.post(
        reverse("admin:voice_voicesettings_change", args=[row.pk]), {"script_template": "Hi {name"}
    )
    assert response.status_code == 200 and "does not format" in response.content.decode()


def test_staff_suppression_cancels_pending_jobs(staff_client):
    user = shopper()
    job = job_for(abandoned_cart(user))
    response = staff_client.post(
        reverse("admin:voice_suppression_add"), {"user": user.pk, "reason": "staff", "note": "asked by phone"}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert Suppression.objects.get(user=user).created_by.email == "boss@example.com"
