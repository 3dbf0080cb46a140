"""Each site entry point settles the collector once the application is loaded (commerce.heap)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from commerce.heap import YOUNG_GENERATION_THRESHOLD

PROBE = """
import gc, importlib, json, sys
before = gc.get_freeze_count(), gc.get_threshold()
importlib.import_module(sys.argv[1])
print(json.dumps({
    "frozen_before": before[0], "threshold_before": before[1], "urlconf": "commerce.urls" in sys.modules,
    "frozen": gc.get_freeze_count(), "threshold": gc.get_threshold(), "oldest": len(gc.get_objects(2)),
}))
"""


@pytest.mark.parametrize("entry_point", ["commerce.asgi", "commerce.wsgi"])
def test_an_entry_point_leaves_what_it_loaded_out_of_the_collectors_walks(entry_point):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "commerce.settings"}
    started = subprocess.run(
        [sys.executable, "-c", PROBE, entry_point], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(started.stdout.strip().splitlines()[-1])
    assert seen["frozen_before"] == 0 and seen["threshold_before"][0] != YOUNG_GENERATION_THRESHOLD
    # Django, the apps and the URL patterns alone are well over 100,000 objects: out of every walk. The
    # URLconf, which Django would otherwise import at the first request, is among them.
    assert seen["frozen"] > 100_000 and seen["urlconf"]
    # The oldest generation holds only what came after the freeze: nothing yet.
    assert seen["oldest"] < 1_000
    assert seen["threshold"] == [YOUNG_GENERATION_THRESHOLD, *seen["threshold_before"][1:]]
