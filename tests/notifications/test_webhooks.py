"""Webhook deliveries to a real receiver on loopback: signed so the receiver's
check passes, retried with exponential backoff and logged attempt by attempt, and
sent once per event however often it is recorded or its task runs."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from market.models import DeliveryAttempt, Notification, NotificationDelivery
from market.notifications import services
from market.notifications.delivery import backoff_seconds
from market.notifications.signing import verify_signature
from market.notifications.tasks import deliveries_sweep, notification_deliver
from tests.factories import ParticipantFactory

from .conftest import subscribe

pytestmark = pytest.mark.django_db


def settled_event(participant, trade_id=7) -> services.Event:
    return services.Event(
        participant_id=participant.pk,
        type="settled",
        ref=trade_id,
        data={"trade_id": trade_id, "quantity": "10.0", "delivered_quantity": "9.0"},
        occurred_at=timezone.now(),
    )


def record(events, django_capture_on_commit_callbacks) -> list[int]:
    """Record in a transaction and run what it enqueues on commit (eager Celery)."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        return services.events_record(events)


def test_a_webhook_is_signed_so_the_receivers_check_passes(
    catalogue, loopback, receiver, django_capture_on_commit_callbacks
):
    participant = ParticipantFactory()
    secret = subscribe(participant, url=receiver.url)
    assert secret.startswith("whsec_")
    record([settled_event(participant)], django_capture_on_commit_callbacks)
    [(headers, body)] = receiver.received
    assert verify_signature(secret, headers, body)
    assert not verify_signature("whsec_wrong", headers, body)
    assert headers["Yiwang-Event-Id"] == f"evt_settled_7_{participant.pk}"
    assert headers["Content-Type"] == "application/json"
    event = receiver.bodies()[0]
    assert event["id"] == headers["Yiwang-Event-Id"]
    assert event["type"] == "settled"
    assert event["data"]["delivered_quantity"] == "9.0"


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    catalogue, loopback, receiver, django_capture_on_commit_callbacks
):
    """Two 500s then a 200: three attempts logged (status codes and the waits of
    2^n x base between them), one delivery, delivered; every attempt carried the
    same event id and body, each signed at its own time."""
    receiver.statuses = [500, 503]
    participant = ParticipantFactory()
    secret = subscribe(participant, url=receiver.url)
    [delivery_id] = record(
        [settled_event(participant)], django_capture_on_commit_callbacks
    )
    delivery = NotificationDelivery.objects.get(pk=delivery_id)
    assert delivery.status == NotificationDelivery.Status.DELIVERED
    assert delivery.attempts == 3
    assert delivery.delivered_at is not None
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery))
    assert [(a.number, a.status_code, a.ok) for a in attempts] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert [a.error for a in attempts] == ["HTTP 500", "HTTP 503", ""]
    base = loopback.NOTIFICATIONS_RETRY_BASE_SECONDS
    waits = [(a.retry_at - a.started_at).total_seconds() for a in attempts[:2]]
    assert waits[0] == pytest.approx(base, abs=2)
    assert waits[1] == pytest.approx(2 * base, abs=2)
    assert attempts[2].retry_at is None
    assert NotificationDelivery.objects.count() == 1
    assert len(receiver.received) == 3
    assert len({h["Yiwang-Event-Id"] for h, _b in receiver.received}) == 1
    assert len({b for _h, b in receiver.received}) == 1
    assert all(verify_signature(secret, h, b) for h, b in receiver.received)


def test_backoff_doubles_and_is_capped(settings):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 10
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff_seconds(20) == 3600


def test_a_delivery_fails_for_good_after_the_last_attempt(
    catalogue, loopback, receiver, django_capture_on_commit_callbacks
):
    loopback.NOTIFICATIONS_MAX_ATTEMPTS = 3
    receiver.statuses = [500] * 10
    participant = ParticipantFactory()
    subscribe(participant, url=receiver.url)
    [delivery_id] = record(
        [settled_event(participant)], django_capture_on_commit_callbacks
    )
    delivery = NotificationDelivery.objects.get(pk=delivery_id)
    assert delivery.status == NotificationDelivery.Status.FAILED
    assert delivery.attempts == 3
    assert delivery.next_attempt_at is None
    assert len(receiver.received) == 3
    notification_deliver(delivery_id, 3)  # a late message: nothing more is sent
    assert len(receiver.received) == 3


def test_the_same_event_is_delivered_once(
    catalogue, loopback, receiver, django_capture_on_commit_callbacks
):
    """Recorded twice, its task run again (a redelivered message, the sweep): one
    notification, one delivery per channel, one request, one e-mail."""
    participant = ParticipantFactory()
    subscribe(participant, url=receiver.url, email="ops@example.com")
    event = settled_event(participant)
    first = record([event], django_capture_on_commit_callbacks)
    again = record([event], django_capture_on_commit_callbacks)
    assert len(first) == 2
    assert again == []
    for delivery_id in first:
        notification_deliver(delivery_id, 0)
    deliveries_sweep()
    assert Notification.objects.filter(participant=participant).count() == 1
    assert len(receiver.received) == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.com"]
    assert mail.outbox[0].extra_headers["Yiwang-Event-Id"] == event.event_id


def test_the_sweep_sends_what_was_never_enqueued(catalogue, loopback, receiver):
    """Recorded, but its on-commit enqueue never ran (here: the test transaction
    drops it): the sweep sends it once its attempt is overdue."""
    participant = ParticipantFactory()
    subscribe(participant, url=receiver.url)
    with transaction.atomic():
        [delivery_id] = services.events_record([settled_event(participant)])
    assert deliveries_sweep() == 0  # not overdue yet: its message may be on its way
    NotificationDelivery.objects.filter(pk=delivery_id).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    assert deliveries_sweep() == 1
    assert len(receiver.received) == 1
    assert NotificationDelivery.objects.get(pk=delivery_id).status == "delivered"


def test_events_are_sent_only_as_chosen(catalogue, loopback, receiver):
    """Categories not chosen, events from before notifications were turned on, and
    participants without a channel get nothing."""
    chooser, silent = ParticipantFactory(), ParticipantFactory()
    subscribe(chooser, url=receiver.url, categories=["fills"])
    old = services.Event(
        participant_id=chooser.pk,
        type="fill",
        ref=1,
        data={},
        occurred_at=timezone.now() - timedelta(days=1),
    )
    with transaction.atomic():
        recorded = services.events_record(
            [settled_event(chooser), settled_event(silent), old]
        )
    assert recorded == []
    assert not Notification.objects.exists()


def test_an_unreachable_receiver_is_logged_with_the_error(
    catalogue, loopback, django_capture_on_commit_callbacks
):
    """Nothing listens on the port: each attempt logs the connection error."""
    import socket

    loopback.NOTIFICATIONS_MAX_ATTEMPTS = 2
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    participant = ParticipantFactory()
    subscribe(participant, url=f"http://127.0.0.1:{port}/hook")
    [delivery_id] = record(
        [settled_event(participant)], django_capture_on_commit_callbacks
    )
    attempts = list(DeliveryAttempt.objects.filter(delivery_id=delivery_id))
    assert [a.status_code for a in attempts] == [None, None]
    assert all(a.error.startswith("ConnectError") for a in attempts)
    delivery = NotificationDelivery.objects.get(pk=delivery_id)
    assert delivery.status == NotificationDelivery.Status.FAILED
    assert delivery.last_error.startswith("ConnectError")
