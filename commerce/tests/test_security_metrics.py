"""Security events reach /metrics when they really happen: a sign-in lockout and a sign-in refused while
locked, a request refused by the rate limit, a CSP report, a refused voice callback. Every kind goes
through ``commerce.security_events.record_security_event``."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from commerce.accounts.tests.factories import PASSWORD, UserFactory
from commerce.audit.models import AuditEvent
from commerce.testing.metrics import sample, scrape

pytestmark = pytest.mark.django_db
EVENTS = "commerce_security_events_total"


def _moved(settings, action) -> dict[str, float]:
    """How much each kind's counter moved while ``action`` ran, as scraped from /metrics."""
    before = scrape(Client(), settings)
    action()
    after = scrape(Client(), settings)
    kinds = {dict(labels).get("kind") for name, labels in after if name == EVENTS}
    return {kind: sample(after, EVENTS, kind=kind) - sample(before, EVENTS, kind=kind) for kind in kinds}


def test_a_lockout_and_a_sign_in_refused_while_locked_are_counted(settings):
    user = UserFactory()
    client = APIClient()

    def fail_five_times_then_try_the_right_password() -> None:
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            client.post("/api/v1/auth/login", {"email": user.email, "password": "wrong"}, format="json")
        refused = client.post(
            "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
        )
        assert refused.status_code == 429

    moved = _moved(settings, fail_five_times_then_try_the_right_password)
    assert moved.get("login_lockout", 0) >= 1 and moved.get("login_locked", 0) >= 1
    assert AuditEvent.objects.filter(action="security.login_lockout").exists()


def test_a_request_refused_by_the_rate_limit_is_counted_but_not_audited(settings):
    # Through the settings fixture, not override_settings: the scrape changes settings too, and the
    # two mechanisms restored out of order would leave the limit at 1 for later tests.
    settings.RATE_LIMIT_ANONYMOUS_PER_MINUTE = 1
    client = APIClient()

    def two_requests() -> None:
        assert [client.get("/api/v1/products").status_code for _ in range(2)] == [200, 429]

    assert _moved(settings, two_requests)["rate_limited"] == 1
    assert not AuditEvent.objects.filter(action="security.rate_limited").exists()


def test_a_csp_report_is_a_security_event(settings):
    report = {"csp-report": {"effective-directive": "script-src-elem", "blocked-uri": "inline"}}

    def send() -> None:
        response = Client().post("/csp-report/", json.dumps(report), content_type="application/csp-report")
        assert response.status_code == 204

    assert _moved(settings, send)["csp_report"] == 1


def test_a_voice_callback_with_a_bad_signature_is_a_refused_callback(settings):
    settings.SUPERU_WEBHOOK_SECRET = "test-webhook-secret"

    def send() -> None:
        response = Client().post(
            "/api/v1/voice/superu/callback",
            json.dumps({"call_uuid": "call-x", "status": "completed"}),
            content_type="application/json",
            HTTP_X_SUPERU_SIGNATURE="0" * 64,
            HTTP_X_SUPERU_TIMESTAMP="1700000000",
        )
        assert response.status_code == 401

    assert _moved(settings, send)["voice_callback_refused"] == 1
