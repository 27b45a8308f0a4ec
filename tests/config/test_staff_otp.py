"""Staff need a TOTP code (django-otp) before the admin serves them anything: without
a device they enrol one on a page that shows its key, with one they enter its code;
a wrong code is refused. Participants log in as before. Staff sessions are shorter
(STAFF_SESSION_AGE), participants keep the default."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.exchange.conftest import make_buyer
from tests.otp import code_of, device_of
from tests.web.conftest import text

pytestmark = pytest.mark.django_db
PASSWORD = "pw-staff-123"


@pytest.fixture
def operator():
    return get_user_model().objects.create_superuser("chief", "", PASSWORD)


def logged_in(user) -> Client:
    """Logged in with the password only, through the admin's own login form."""
    client = Client()
    response = client.post(
        "/admin/login/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    return client


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_staff_without_a_device_is_sent_to_enrol_and_gets_in_with_its_code(operator):
    client = logged_in(operator)
    for url in ("/admin/", "/admin/settlement/depositrequest/", "/admin/reconcile/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/otp/setup/?next=")

    page = client.get("/accounts/otp/setup/?next=/admin/reconcile/")
    body = unescape(page.content.decode())
    assert page.status_code == 200
    key = re.search(r'id="otp-secret">([A-Z2-7]+)<', body)[1]
    uri = re.search(r'id="otp-uri">(otpauth://totp/[^<]+)<', body)[1]
    assert parse_qs(urlsplit(uri).query)["secret"] == [key]
    assert parse_qs(urlsplit(uri).query)["issuer"] == ["Yiwang"]
    assert "chief" in uri
    assert key in client.get("/accounts/otp/setup/").content.decode()  # reloaded

    # An authenticator app given that key shows this code now.
    device = TOTPDevice.objects.get(user=operator)
    assert not device.confirmed
    response = client.post(
        "/accounts/otp/setup/?next=/admin/reconcile/",
        {"otp_token": code_of(device), "next": "/admin/reconcile/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/reconcile/"
    assert TOTPDevice.objects.get(user=operator).confirmed
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/reconcile/").status_code == 200


def test_enrolment_refuses_a_wrong_first_code(operator):
    client = logged_in(operator)
    client.get("/accounts/otp/setup/")
    device = TOTPDevice.objects.get(user=operator)
    response = client.post(
        "/accounts/otp/setup/", {"otp_token": wrong(code_of(device))}
    )
    assert response.status_code == 200
    assert "That code is not right" in text(response.content.decode())
    assert not TOTPDevice.objects.get(user=operator).confirmed
    assert client.get("/admin/")["Location"].startswith("/accounts/otp/setup/")


def test_staff_with_a_device_must_enter_its_code(operator):
    device = device_of(operator)
    client = logged_in(operator)
    response = client.get("/admin/market/participant/")
    assert response.status_code == 302
    assert (
        response["Location"] == "/accounts/otp/?next=%2Fadmin%2Fmarket%2Fparticipant%2F"
    )
    # Someone with the password only cannot enrol a second device.
    assert client.get("/accounts/otp/setup/")["Location"] == "/accounts/otp/"
    assert TOTPDevice.objects.filter(user=operator).count() == 1

    response = client.post(
        "/accounts/otp/",
        {"otp_token": code_of(device), "next": "/admin/market/participant/"},
    )
    assert response["Location"] == "/admin/market/participant/"
    assert client.get("/admin/market/participant/").status_code == 200


def test_a_wrong_code_is_refused_and_slows_the_next_try(operator):
    device = device_of(operator)
    client = logged_in(operator)
    response = client.post("/accounts/otp/", {"otp_token": wrong(code_of(device))})
    assert response.status_code == 200
    assert "That code is not right" in text(response.content.decode())
    assert client.get("/admin/").status_code == 302

    # Right after a wrong code even the right one waits (brute force gets nowhere).
    response = client.post("/accounts/otp/", {"otp_token": code_of(device)})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(minutes=1)
    )
    assert (
        client.post("/accounts/otp/", {"otp_token": code_of(device)}).status_code == 302
    )
    assert client.get("/admin/").status_code == 200


def test_a_code_is_accepted_once(operator):
    """A code seen over someone's shoulder is no use after its owner typed it."""
    device = device_of(operator)
    code = code_of(device)
    assert (
        logged_in(operator).post("/accounts/otp/", {"otp_token": code}).status_code
        == 302
    )
    again = logged_in(operator)
    assert again.post("/accounts/otp/", {"otp_token": code}).status_code == 200
    assert again.get("/admin/").status_code == 302


def test_the_code_is_checked_with_the_device_clock_drift(operator):
    """A code from the previous 30 s step is still taken (the app's clock lags)."""
    device = device_of(operator)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time -= device.step
    client = logged_in(operator)
    response = client.post("/accounts/otp/", {"otp_token": f"{totp.token():06d}"})
    assert response.status_code == 302


def test_next_never_leaves_the_site(operator):
    device = device_of(operator)
    client = logged_in(operator)
    response = client.post(
        "/accounts/otp/?next=https://evil.example/",
        {"otp_token": code_of(device), "next": "https://evil.example/"},
    )
    assert response["Location"] == "/admin/"


def test_unverified_staff_can_still_log_out(operator):
    device_of(operator)
    client = logged_in(operator)
    assert client.post("/admin/logout/")["Location"] == "/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_a_participant_logs_in_and_trades_pages_as_before():
    buyer = make_buyer()
    buyer.user.set_password(PASSWORD)
    buyer.user.save()
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": buyer.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/trade/orders/").status_code == 200
    assert client.get("/accounts/settings/").status_code == 200
    assert client.get("/accounts/otp/setup/").status_code == 404
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert not TOTPDevice.objects.exists()


@override_settings(STAFF_SESSION_AGE=600)
def test_staff_sessions_end_sooner_than_participants(operator):
    staff_client = logged_in(operator)
    assert 595 <= staff_client.session.get_expiry_age() <= 600
    assert 595 <= staff_client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] <= 600

    buyer = make_buyer()
    buyer.user.set_password(PASSWORD)
    buyer.user.save()
    client = Client()
    client.post(
        "/accounts/login/", {"username": buyer.user.username, "password": PASSWORD}
    )
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_staff_session_age_defaults_to_an_hour():
    assert settings.STAFF_SESSION_AGE == 3600
