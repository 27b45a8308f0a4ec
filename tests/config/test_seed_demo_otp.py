"""The demo stays usable with the second factor: `seed_demo` gives the demo operator a
TOTP device and prints its key and otpauth URI once, beside the passwords (again
with --otp-key); a code from the printed key opens the admin."""

import re
from base64 import b32decode
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP

from exchange.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _demo(settings):
    settings.YIWANG_DEMO = True  # seed_demo runs only in the demo
    settings.EXCHANGE_LIST_DAYS_AHEAD = 1  # fewer quotes: quicker


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def code_from(key: str) -> str:
    """What an authenticator app given the printed key shows now."""
    return f"{TOTP(b32decode(key)).token():06d}"


def test_seed_demo_prints_the_operators_key_once_and_it_opens_the_admin():
    first = seed()
    key = re.search(r"key ([A-Z2-7]{16,})", first)[1]
    assert f"otpauth://totp/Yiwang%3Aadmin?secret={key}" in first
    assert "admin / " in first  # beside the passwords

    second = seed()
    assert key not in second
    assert "--otp-key" in second
    assert key in seed("--otp-key")

    client = Client()
    client.post("/admin/login/", {"username": "admin", "password": DEMO_PASSWORD})
    assert client.get("/admin/")["Location"].startswith("/accounts/otp/?")
    response = client.post("/accounts/otp/", {"otp_token": code_from(key)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
