"""The SuperU adapter against a fake SuperU HTTP server on 127.0.0.1, and the simulator's whole loop."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command

from voice.models import AttemptStatus, CallAttempt, JobState, RecoveryJob
from voice.providers import CallRequest, ProviderError, SimulatorProvider, SuperUProvider
from voice.selectors import voice_config

from .factories import abandoned_cart, shopper


class FakeSuperU(BaseHTTPRequestHandler):
    """Answers like SuperU's create_call endpoint; ``server.mode`` picks the behaviour."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", 0))
        self.server.received.append(
            {"path": self.path, "headers": dict(self.headers), "json": json.loads(self.rfile.read(length))}
        )
        mode = self.server.mode
        if mode == "slow":
            time.sleep(1.0)
        if mode == "error":
            self._answer(500, b'{"detail": "internal"}')
        elif mode == "id":
            self._answer(200, b'{"id": "fallback-id"}')
        elif mode == "no-id":
            self._answer(200, b'{"ok": true}')
        else:
            self._answer(200, b'{"call_uuid": "superu-123", "status": "queued"}')

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may have given up already (the timeout test).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        return


@pytest.fixture
def fake_superu():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSuperU)
    server.received, server.mode = [], "ok"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def superu_config(db, fake_superu, settings):
    settings.SUPERU_ENABLED = True
    settings.SUPERU_API_URL = f"http://127.0.0.1:{fake_superu.server_port}/"
    settings.SUPERU_API_KEY = "key-1"
    settings.SUPERU_ASSISTANT_ID = "assistant-1"
    settings.SUPERU_FROM_PHONE_NUMBER = "+14155550000"
    settings.SUPERU_CAMPAIGN_ID = "campaign-1"
    settings.SUPERU_TIMEOUT_SECONDS = 0.3
    return voice_config()


REQUEST = CallRequest(
    to="+14155550123",
    customer_name="Ada",
    customer_id="7",
    script="Hi Ada",
    variable_values={"total": "59.98"},
)


def test_superu_call_is_posted_per_contract(superu_config, fake_superu):
    call = SuperUProvider(superu_config).place_call(REQUEST)
    assert call.call_id == "superu-123"
    sent = fake_superu.received[0]
    assert sent["path"] == "/campaign/outbound/create_call/superu"
    assert sent["headers"]["superU-Api-Key"] == "key-1"
    assert sent["json"] == {
        "assistant_id": "assistant-1",
        "to": "+14155550123",
        "from": "+14155550000",
        "campaign_id": "campaign-1",
        "customer_name": "Ada",
        "customer_id": "7",
        "variable_values": {"total": "59.98"},
    }


def test_superu_id_field_is_accepted_as_the_call_id(superu_config, fake_superu):
    fake_superu.mode = "id"
    assert SuperUProvider(superu_config).place_call(REQUEST).call_id == "fallback-id"


@pytest.mark.parametrize(("mode", "message"), [("error", "answered 500"), ("no-id", "no call_uuid")])
def test_superu_error_answers_are_provider_errors(superu_config, fake_superu, mode, message):
    fake_superu.mode = mode
    with pytest.raises(ProviderError, match=message):
        SuperUProvider(superu_config).place_call(REQUEST)


def test_superu_timeout_is_a_provider_error(superu_config, fake_superu):
    fake_superu.mode = "slow"
    started = time.monotonic()
    with pytest.raises(ProviderError, match="timed out"):
        SuperUProvider(superu_config).place_call(REQUEST)
    assert time.monotonic() - started < 1.0


def test_superu_unreachable_is_a_provider_error(superu_config):
    config = replace(superu_config, superu_api_url="http://127.0.0.1:9")
    with pytest.raises(ProviderError, match="unreachable"):
        SuperUProvider(config).place_call(REQUEST)


def test_superu_without_credentials_fails_clearly(superu_config):
    with pytest.raises(ProviderError, match="SUPERU_API_KEY"):
        SuperUProvider(replace(superu_config, superu_api_key="")).place_call(REQUEST)


def test_a_superu_500_during_a_real_attempt_schedules_a_retry(superu_config, fake_superu, anytime):
    fake_superu.mode = "error"
    abandoned_cart(shopper(), minutes_ago=60)
    call_command("voice_recovery_scan", stdout=StringIO())
    job = RecoveryJob.objects.get()
    attempt = CallAttempt.objects.get()
    assert job.state == JobState.RETRYING and "500" in job.last_error
    assert attempt.provider == "superu" and attempt.status == AttemptStatus.FAILED


def test_simulator_answers_like_superu_and_calls_back(db, anytime):
    config = voice_config()
    call = SimulatorProvider(config).place_call(REQUEST)
    assert call.call_id.startswith("sim-") and call.on_recorded is not None


def test_whole_loop_with_the_simulator_and_no_credentials(db, anytime, django_capture_on_commit_callbacks):
    from conversations.models import Message

    abandoned_cart(shopper(), minutes_ago=60)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("voice_recovery_scan", stdout=out)
    job = RecoveryJob.objects.get()
    attempt = job.call_attempts.get()
    assert job.state == JobState.COMPLETED, out.getvalue()
    assert attempt.provider == "simulator" and attempt.status == AttemptStatus.COMPLETED
    assert attempt.recovery_code in job.summary
    assert Message.objects.filter(conversation__user=job.user, channel="voice").count() == 1
    assert "1 new job" in out.getvalue()


def test_simulated_unanswered_number_retries(db, anytime, django_capture_on_commit_callbacks):
    abandoned_cart(shopper(phone="+14155550129"), minutes_ago=60)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("voice_recovery_scan", stdout=StringIO())
    job = RecoveryJob.objects.get()
    assert job.state == JobState.RETRYING and job.last_error == "Call no_answer"
