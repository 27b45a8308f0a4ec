"""gunicorn's configuration (config/gunicorn.py): its `post_worker_init` hook freezes
a worker's loaded application, views included, out of the garbage collector and
collects less often, unless GUNICORN_GC_TUNING is false; every invocation uses it."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What a gunicorn worker does: load the application, then call the hook.
PROBE = """
import gc, json, sys, types
import config.wsgi
from config import gunicorn
views_before = "exchange.api.trading" in sys.modules
threshold_before, frozen_before = gc.get_threshold(), gc.get_freeze_count()
gunicorn.post_worker_init(types.SimpleNamespace())
print(json.dumps({
    "threshold_before": threshold_before,
    "threshold": gc.get_threshold(),
    "frozen": gc.get_freeze_count() - frozen_before,
    "views_before": views_before,
    "views": "exchange.api.trading" in sys.modules,
}))
"""


def _probe(**environ: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "GUNICORN_GC_TUNING"}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings"} | environ
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
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_worker_freezes_the_loaded_application_and_collects_less_often():
    """By default the hook imports every view, freezes them with the rest, and
    raises the collector's thresholds."""
    probe = _probe()
    assert not probe["views_before"]  # the wsgi entry alone loads no view
    assert probe["views"]  # the hook imported them before the freeze
    assert probe["threshold"] == [10_000, 10, 100]
    assert probe["frozen"] > 50_000


def test_worker_keeps_python_defaults_when_the_setting_is_off():
    """GUNICORN_GC_TUNING=false leaves the collector as Python sets it."""
    probe = _probe(GUNICORN_GC_TUNING="false")
    assert probe["threshold"] == probe["threshold_before"]
    assert probe["frozen"] == 0


@pytest.mark.parametrize("name", ["Procfile", ".ci/run", "tests/bench/bench_api.py"])
def test_every_gunicorn_invocation_takes_the_configuration(name):
    """The web process of `make run`, CI's schemathesis step and bench_api all
    start gunicorn with config/gunicorn.py, so all of them get the hook."""
    text = (ROOT / name).read_text()
    commands = re.findall(r"\bconfig\.wsgi\b", text)
    configured = re.findall(r"\bconfig\.wsgi\W+-c\W+config/gunicorn\.py\b", text)
    assert commands
    assert len(configured) == len(commands)
