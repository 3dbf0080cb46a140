"""Settings of the API hardening block that cannot be honoured stop the site at start, with the reason."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CORS_ORIGINS", "*"),
        ("CORS_ORIGINS", "https://*.example.com"),
        ("RATE_LIMIT_PENALTY_MINUTES", "1,soon"),
        ("RATE_LIMIT_PENALTY_MINUTES", "0"),
    ],
)
def test_a_setting_that_cannot_be_honoured_stops_the_start(name, value):
    env = {**os.environ, name: value, "DJANGO_SETTINGS_MODULE": "commerce.settings"}
    started = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True
    )
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr and name in started.stderr
