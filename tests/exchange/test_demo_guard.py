"""The demo is its own setting, not DEBUG: `seed_demo` (a superuser with a known
password, 5M CNY deposits) refuses to run unless YIWANG_DEMO is on, even with DEBUG
on, and writes nothing; web deposits are approved at once only in the demo."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from market.models import Participant
from settlement.models import DepositRequest
from tests.exchange.conftest import make_buyer
from tests.web.conftest import html, logged_in

pytestmark = pytest.mark.django_db


@override_settings(YIWANG_DEMO=False, DEBUG=True)
def test_seed_demo_refuses_outside_the_demo():
    with pytest.raises(CommandError, match="YIWANG_DEMO"):
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert not get_user_model().objects.filter(username="admin").exists()
    assert not Participant.objects.exists()


@override_settings(YIWANG_DEMO=True, EXCHANGE_LIST_DAYS_AHEAD=1)
def test_seed_demo_runs_in_the_demo():
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert get_user_model().objects.get(username="admin").is_superuser


def test_debug_alone_does_not_approve_web_deposits(settings):
    settings.DEBUG, settings.YIWANG_DEMO = True, False
    client = logged_in(make_buyer())
    assert "Demo mode" not in html(client.get("/funds/deposit/"))
    client.post("/funds/deposit/", {"amount": "100"})
    assert DepositRequest.objects.get().status == "requested"


def test_demo_setting_is_off_unless_set():
    """Without YIWANG_DEMO the settings have no demo, whatever DEBUG says."""
    env = {k: v for k, v in os.environ.items() if k != "YIWANG_DEMO"}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "true"}
    probe = "from django.conf import settings; print(settings.YIWANG_DEMO)"
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "False", out.stderr
    env["YIWANG_DEMO"] = "true"
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "True", out.stderr
