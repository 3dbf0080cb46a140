"""``/health`` tells an operator the voice provider, the kill switch and the scheduler as scans see them."""

from __future__ import annotations

import pytest

from voice.models import VoiceSettings

pytestmark = pytest.mark.django_db


def _voice_check(client) -> dict:
    response = client.get("/health")
    assert response.status_code == 200
    return response.json()["checks"]["voice"]


def test_health_reports_the_simulator_with_the_kill_switch_off_and_the_scheduler_disabled(client, settings):
    settings.VOICE_RECOVERY_SCHEDULER_ENABLED = False
    assert _voice_check(client) == {"provider": "simulator", "killSwitch": "off", "scheduler": "disabled"}


def test_health_reports_the_admin_kill_switch_and_the_environment_scheduler(client, settings):
    settings.VOICE_RECOVERY_SCHEDULER_ENABLED = True
    VoiceSettings.objects.create(pk=VoiceSettings.SINGLETON_PK, kill_switch=True)

    response = client.get("/health").json()

    assert response["checks"]["voice"]["killSwitch"] == "on"
    assert response["checks"]["voice"]["scheduler"] == "enabled"
    assert response["status"] == "ok"  # a kill switch is a decision, not a fault
