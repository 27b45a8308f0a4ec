"""The notifications page in English and Chinese: choices saved, a non-public
webhook URL refused beside its field, the signing secret shown once, the delivery
log with its attempts; and the log in admin, read only, for operators."""

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from market.models import NotificationDelivery, NotificationSettings
from market.notifications import services
from market.notifications.tasks import notification_deliver
from tests.factories import ParticipantFactory
from tests.operators import staff
from tests.otp import login_verified
from tests.web.conftest import chinese, html, text

from .test_addresses import PUBLIC, fake_dns

pytestmark = pytest.mark.django_db
URL = "/accounts/notifications/"


@pytest.fixture
def participant(catalogue):
    return ParticipantFactory()


@pytest.fixture
def client(participant):
    client = Client()
    client.force_login(participant.user)
    return client


def form(**overrides) -> dict:
    return {
        "categories": ["fills", "settlements"],
        "email_enabled": "on",
        "email": "desk@example.com",
        "webhook_enabled": "on",
        "webhook_url": "https://hooks.example.com/yiwang",
        **overrides,
    }


def test_the_page_shows_in_english_and_chinese(client):
    page = text(html(client.get(URL)))
    assert "Notifications" in page
    assert "Delivery log" in page
    assert "Nothing sent yet." in page
    page = text(html(chinese(client).get(URL)))
    assert "通知" in page
    assert "推送记录" in page
    assert "Delivery log" not in page


def test_saving_shows_the_new_secret_once(client, participant, monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC]})
    page = html(client.post(URL, form()))
    found = NotificationSettings.objects.get(participant=participant)
    assert found.webhook_secret in page
    assert found.categories == ["fills", "settlements"]
    assert found.email == "desk@example.com"
    assert found.active_since is not None
    again = html(client.get(URL))
    assert found.webhook_secret not in again
    assert f"Current secret: {found.secret_prefix}…" in text(again)


def test_replacing_the_secret_shows_the_new_one_once(client, participant, monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC]})
    client.post(URL, form())
    old = NotificationSettings.objects.get(participant=participant).webhook_secret
    page = html(client.post(URL + "secret/"))
    new = NotificationSettings.objects.get(participant=participant).webhook_secret
    assert new != old
    assert new in page
    assert old not in page


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_private_webhook_url_is_refused_beside_its_field(
    client, participant, monkeypatch, language
):
    fake_dns(monkeypatch, {"hooks.example.com": ["10.0.0.3"]})
    if language == "zh-hans":
        chinese(client)
    page = text(html(client.post(URL, form())))
    if language == "en":
        assert "resolves to 10.0.0.3, a private address" in page
    else:
        assert "10.0.0.3" in page
        assert "私有地址" in page
    assert "Give the URL to call." not in page  # one message, the one that says why
    assert "请填写要调用的地址" not in page
    assert not NotificationSettings.objects.filter(participant=participant).exists()


def test_the_log_shows_each_attempt(client, participant, settings, monkeypatch):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC]})
    client.post(URL, form(email_enabled=""))
    fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})  # rebound
    event = services.Event(
        participant_id=participant.pk,
        type="fill",
        ref=99,
        data={"trade_id": 99, "side": "buy", "quantity": "1.0"},
        occurred_at=timezone.now(),
    )
    with transaction.atomic():
        [delivery_id] = services.events_record([event])
    notification_deliver(delivery_id, 0)
    page = text(html(client.get(URL)))
    assert f"evt_fill_99_{participant.pk}" in page
    assert "failed" in page
    assert "Refused: The webhook URL resolves to 127.0.0.1" in page


def test_operators_see_the_delivery_log_read_only(participant):
    event = services.Event(
        participant_id=participant.pk,
        type="settled",
        ref=5,
        data={},
        occurred_at=timezone.now(),
    )
    NotificationSettings.objects.create(
        participant=participant,
        email_enabled=True,
        email="a@example.com",
        categories=["settlements"],
    )
    with transaction.atomic():
        [delivery_id] = services.events_record([event])
    viewer = Client()
    login_verified(viewer, staff("viewer-n", "viewer"))
    listing = text(html(viewer.get("/admin/market/notificationdelivery/")))
    assert f"evt_settled_5_{participant.pk}" in listing
    detail = viewer.get(f"/admin/market/notificationdelivery/{delivery_id}/change/")
    assert detail.status_code == 200
    assert "Save" not in text(html(detail))
    assert (
        viewer.post(
            f"/admin/market/notificationdelivery/{delivery_id}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert NotificationDelivery.objects.filter(pk=delivery_id).exists()
