"""Webhook URLs that reach loopback, private, link-local or other non-public
addresses are refused: when saved, and again when sent (DNS rebinding). Only DNS
resolution is faked here, the one true external boundary."""

import socket

import pytest
from django.db import transaction

from market.models import DeliveryAttempt, NotificationDelivery
from market.notifications import addresses, services
from market.notifications.addresses import UnsafeWebhookUrl, webhook_target
from market.notifications.delivery import backoff_seconds, delivery_attempt
from tests.factories import ParticipantFactory

from .conftest import subscribe

PUBLIC = "93.184.215.14"


def fake_dns(monkeypatch, answers: dict[str, list[str]]):
    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in answers[host]
        ]

    monkeypatch.setattr(addresses, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://127.8.9.10:8080/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://172.16.0.9/hook", "private"),
        ("http://192.168.1.1/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://[fd00::1]/hook", "private"),
        ("http://[::ffff:10.0.0.1]/hook", "private"),
        ("http://0.0.0.0/hook", "private"),
        ("http://[64:ff9b::a00:1]/hook", "private"),  # NAT64 of 10.0.0.1
        ("http://[2002:a00:1::]/hook", "private"),  # 6to4 of 10.0.0.1
        ("http://100.64.0.1/hook", "not a public"),
        ("http://224.0.0.1/hook", "not a public"),
    ],
)
def test_webhook_target_refuses_non_public_addresses(url, why):
    """The message names the address and what kind it is."""
    with pytest.raises(UnsafeWebhookUrl) as refused:
        webhook_target(url)
    assert why in refused.value.message
    assert "public internet addresses" in refused.value.message


def test_webhook_target_refuses_a_name_resolving_to_a_private_address(monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["10.0.0.7"]})
    with pytest.raises(UnsafeWebhookUrl, match=r"10\.0\.0\.7, a private address"):
        webhook_target("https://hooks.example.com/yiwang")


def test_webhook_target_refuses_a_name_with_any_private_answer(monkeypatch):
    """Every address a name resolves to must be public: a client could connect to
    any of them."""
    fake_dns(monkeypatch, {"mixed.example.com": [PUBLIC, "127.0.0.1"]})
    with pytest.raises(UnsafeWebhookUrl, match="loopback"):
        webhook_target("https://mixed.example.com/yiwang")


def test_webhook_target_refuses_a_name_that_does_not_resolve(monkeypatch):
    fake_dns(monkeypatch, {})
    with pytest.raises(UnsafeWebhookUrl, match="could not be resolved"):
        webhook_target("https://nowhere.example.com/yiwang")


@pytest.mark.parametrize(
    "url",
    ["ftp://hooks.example.com/x", "https://user:pw@hooks.example.com/x", "hooks"],
)
def test_webhook_target_refuses_other_schemes_and_credentials(url):
    with pytest.raises(UnsafeWebhookUrl):
        webhook_target(url)


def test_webhook_target_pins_the_checked_address(monkeypatch):
    """The request goes to the address just checked, with the name as Host (and,
    over https, as the TLS server name)."""
    fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC]})
    target = webhook_target("https://hooks.example.com/in?x=1")
    assert target.url() == f"https://{PUBLIC}:443/in?x=1"
    assert target.host_header() == "hooks.example.com"


def test_loopback_is_refused_unless_the_test_setting_allows_it(settings):
    settings.NOTIFICATIONS_ALLOW_LOOPBACK = True
    assert webhook_target("http://127.0.0.1:9/x").address == "127.0.0.1"
    with pytest.raises(UnsafeWebhookUrl, match="private"):
        webhook_target("http://10.0.0.1/x")  # private stays refused


@pytest.mark.django_db
def test_a_private_webhook_url_is_refused_at_registration(catalogue, monkeypatch):
    """Saving the settings refuses the URL, and nothing is saved."""
    fake_dns(monkeypatch, {"intranet.example.com": ["192.168.10.10"]})
    participant = ParticipantFactory()
    with pytest.raises(UnsafeWebhookUrl, match=r"192\.168\.10\.10"):
        subscribe(participant, url="https://intranet.example.com/hook")
    assert not services.subscribers([participant.pk])


@pytest.mark.django_db
def test_a_name_rebound_to_a_private_address_is_refused_when_sending(
    catalogue, monkeypatch
):
    """Registered while it resolved to a public address; at send time it resolves
    to a private one: the attempt is refused before any connection, and logged."""
    fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC]})
    participant = ParticipantFactory()
    subscribe(participant, url="https://hooks.example.com/yiwang")
    fake_dns(monkeypatch, {"hooks.example.com": ["10.9.8.7"]})
    connected = []
    monkeypatch.setattr(
        "httpx.Client.stream", lambda *a, **k: connected.append(a) or None
    )
    delivery = _one_delivery(participant)
    wait = delivery_attempt(delivery_id=delivery.pk, attempt=0)  # one attempt
    assert wait == backoff_seconds(1)
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert not attempt.ok
    assert attempt.error.startswith("Refused: The webhook URL resolves to 10.9.8.7")
    assert not connected
    delivery.refresh_from_db()
    assert delivery.status == NotificationDelivery.Status.PENDING  # retried later
    assert delivery.last_error == attempt.error


def _one_delivery(participant) -> NotificationDelivery:
    from django.utils import timezone

    event = services.Event(
        participant_id=participant.pk,
        type="settled",
        ref=1,
        data={"trade_id": 1},
        occurred_at=timezone.now(),
    )
    with transaction.atomic():
        [delivery_id] = services.events_record([event])
    return NotificationDelivery.objects.get(pk=delivery_id)
