"""The WSGI application comes loaded: every view imported, and frozen out of the cyclic collector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

PROBE = """
import gc, json, sys
before = gc.get_freeze_count()
import huitou.wsgi
print(json.dumps({
    "before": before,
    "frozen": gc.get_freeze_count(),
    "views": sorted(m for m in sys.modules if m.startswith("huitou.") and ".views" in m),
}))
"""


def test_the_application_imports_every_view_then_freezes_what_lives_as_long_as_the_process() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "huitou.settings_test"}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE], env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])

    assert found["before"] == 0
    # Django's own objects and the product's: tens of thousands, none of them walked again.
    assert found["frozen"] > 50_000
    assert {"huitou.analytics.views_staff", "huitou.customers.views", "huitou.service.views.order_page"} <= set(
        found["views"]
    )
