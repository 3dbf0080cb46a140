"""POST /api/v1/voice/superu/callback: signature, freshness, replay, malformed bodies, unknown calls."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Message
from voice.models import AttemptStatus, CallAttempt, JobState, Suppression
from voice.services import job_attempt_begin

from .factories import abandoned_cart, job_for, shopper

pytestmark = pytest.mark.django_db
URL = "/api/v1/voice/superu/callback"
SECRET = "test-webhook-secret"


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def post(
    client,
    payload,
    *,
    timestamp=None,
    signature=None,
    names=("X-SuperU-Signature", "X-SuperU-Timestamp"),
    raw: bytes | None = None,
):
    body = raw if raw is not None else json.dumps(payload).encode()
    ts = timestamp if timestamp is not None else str(int(time.time()))
    sig = signature if signature is not None else sign(body, ts)
    headers = {}
    if sig:
        headers[f"HTTP_{names[0].upper().replace('-', '_')}"] = sig
    if ts:
        headers[f"HTTP_{names[1].upper().replace('-', '_')}"] = ts
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.fixture
def calling_attempt(anytime):
    """A job whose call was accepted by the provider and is waiting for the callback."""
    cart = abandoned_cart(shopper(), minutes_ago=60)
    job = job_for(cart, due=timezone.now() - timedelta(seconds=1))
    attempt = job_attempt_begin(job_id=job.pk)
    CallAttempt.objects.filter(pk=attempt.pk).update(
        status=AttemptStatus.ACCEPTED, provider_call_id="call-abc"
    )
    attempt.refresh_from_db()
    return attempt


COMPLETED = {
    "call_uuid": "call-abc",
    "status": "completed",
    "outcome": "interested",
    "duration_seconds": 65,
    "summary": "Ada will finish the order tonight.",
}


def test_signed_callback_completes_the_job_and_records_the_summary_in_the_conversation(
    client, calling_attempt, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, COMPLETED)
    assert response.status_code == 200
    assert response.json() == {"call_uuid": "call-abc"}
    calling_attempt.refresh_from_db()
    job = calling_attempt.job
    assert calling_attempt.status == AttemptStatus.COMPLETED and calling_attempt.duration_seconds == 65
    assert job.state == JobState.COMPLETED and job.outcome == "interested" and job.completed_at is not None
    message = Message.objects.get(conversation__user=job.user)
    assert message.channel == "voice" and message.content == "Ada will finish the order tonight."


def test_alternate_header_names_are_accepted(client, calling_attempt):
    response = post(client, COMPLETED, names=("X-Signature", "X-Timestamp"))
    assert response.status_code == 200


def test_wrong_signature_is_refused(client, calling_attempt):
    response = post(client, COMPLETED, signature=sign(b"other body", str(int(time.time()))))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    calling_attempt.refresh_from_db()
    assert calling_attempt.status == AttemptStatus.ACCEPTED


def test_signature_with_another_secret_is_refused(client, calling_attempt):
    ts = str(int(time.time()))
    body = json.dumps(COMPLETED).encode()
    response = post(client, COMPLETED, timestamp=ts, signature=sign(body, ts, secret="not-the-secret"))
    assert response.status_code == 401


@pytest.mark.parametrize("skew", [301, -301])
def test_stale_or_future_timestamp_is_refused(client, calling_attempt, skew):
    # A frozen clock: on a busy machine a second can pass between signing and checking.
    with time_machine.travel(int(time.time()), tick=False):
        response = post(client, COMPLETED, timestamp=str(int(time.time()) - skew))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "stale_timestamp"


def test_timestamp_just_inside_the_tolerance_is_accepted(client, calling_attempt):
    assert post(client, COMPLETED, timestamp=str(int(time.time()) - 295)).status_code == 200


@pytest.mark.parametrize("missing", ["signature", "timestamp"])
def test_missing_headers_are_refused(client, calling_attempt, missing):
    kwargs = {"signature": ""} if missing == "signature" else {"timestamp": "", "signature": "abc"}
    response = post(client, COMPLETED, **kwargs)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_signature"


def test_replayed_callback_is_acknowledged_and_changes_nothing(
    client, calling_attempt, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, COMPLETED).status_code == 200
    job = calling_attempt.job
    job.refresh_from_db()
    before = (job.state, job.updated_at, Message.objects.count())
    assert before[2] == 1
    with django_capture_on_commit_callbacks(execute=True):
        again = post(client, COMPLETED)
    job.refresh_from_db()
    assert again.status_code == 200 and again.json() == {"call_uuid": "call-abc"}
    assert (job.state, job.updated_at, Message.objects.count()) == before


def test_a_different_late_callback_for_a_finished_call_changes_nothing(client, calling_attempt):
    post(client, COMPLETED)
    late = post(client, {"call_uuid": "call-abc", "status": "failed"})
    calling_attempt.refresh_from_db()
    assert late.status_code == 200
    assert calling_attempt.status == AttemptStatus.COMPLETED
    assert calling_attempt.job.state == JobState.COMPLETED


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[1, 2]",
        b'{"status": "completed"}',
        b'{"call_uuid": "call-abc", "status": "exploded"}',
        b'{"call_uuid": "call-abc", "status": "completed", "duration_seconds": "long"}',
        b"\xff\xfe",
    ],
)
def test_malformed_signed_body_is_a_400_not_a_500(client, calling_attempt, raw):
    response = post(client, None, raw=raw)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_unknown_call_is_404(client, calling_attempt):
    response = post(client, {**COMPLETED, "call_uuid": "nobody-knows"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_call"


def test_no_answer_callback_is_a_failed_attempt_retried_later(client, calling_attempt):
    response = post(client, {"call_uuid": "call-abc", "status": "no_answer"})
    job = calling_attempt.job
    job.refresh_from_db()
    assert response.status_code == 200
    assert job.state == JobState.RETRYING and job.last_error == "Call no_answer"


def test_progress_callback_is_acknowledged_without_a_change(client, calling_attempt):
    assert post(client, {"call_uuid": "call-abc", "status": "ringing"}).status_code == 200
    calling_attempt.refresh_from_db()
    assert calling_attempt.status == AttemptStatus.ACCEPTED


def test_shopper_asking_not_to_be_called_again_is_suppressed(client, calling_attempt):
    post(client, {**COMPLETED, "outcome": "do_not_call"})
    assert Suppression.objects.filter(user=calling_attempt.job.user, reason="shopper_opt_out").exists()


def test_invalid_number_fails_the_job_without_retrying(client, calling_attempt):
    post(client, {"call_uuid": "call-abc", "status": "failed", "outcome": "invalid_number"})
    job = calling_attempt.job
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert Suppression.objects.filter(user=job.user, reason="invalid_number").exists()


def test_callbacks_are_refused_when_superu_is_enabled_without_a_secret(client, calling_attempt, settings):
    settings.SUPERU_ENABLED = True
    settings.SUPERU_WEBHOOK_SECRET = ""
    response = post(
        client, COMPLETED, signature=sign(json.dumps(COMPLETED).encode(), str(int(time.time())), "")
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "webhook_not_configured"


def test_jwt_is_not_needed_and_a_bad_bearer_token_does_not_matter(client, calling_attempt):
    body = json.dumps(COMPLETED).encode()
    ts = str(int(time.time()))
    response = client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer garbage",
        HTTP_X_SUPERU_SIGNATURE=sign(body, ts),
        HTTP_X_SUPERU_TIMESTAMP=ts,
    )
    assert response.status_code == 200
