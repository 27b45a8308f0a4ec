"""The web process's entry point (config/wsgi.py): its garbage collector tuned for a
long-lived heap, with the whole application, views included, frozen out of it."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
import config.wsgi
print(json.dumps({
    "threshold": gc.get_threshold(),
    "frozen": gc.get_freeze_count(),
    "views": "exchange.api.trading" in sys.modules,
}))
"""


def test_web_process_freezes_the_loaded_application_and_collects_less_often():
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings"}
    env.setdefault("DJANGO_DEBUG", "true")
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe["threshold"] == [10_000, 10, 100]
    assert probe["views"]  # imported before the freeze, so frozen with the rest
    assert probe["frozen"] > 50_000
