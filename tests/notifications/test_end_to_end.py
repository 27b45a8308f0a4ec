"""From a fill placed through the real placement path to a signed webhook at a real
HTTP receiver on loopback and an e-mail in the outbox, with transactions that
really commit (the collection and the deliveries run after commit, eager Celery);
and the sweep that collects fills when no after-commit hook ran."""

import pytest
from django.core import mail
from django.db import transaction

from exchange.notifications.fills import fills_sweep
from market.models import Notification, NotificationDelivery
from market.notifications.signing import verify_signature
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place

from .conftest import subscribe


@pytest.mark.django_db(transaction=True)
def test_a_fill_reaches_the_webhook_and_the_mailbox(catalogue, loopback, receiver):
    instrument = make_instrument()
    seller, buyer = make_seller(), make_buyer()
    secret = subscribe(buyer, url=receiver.url, email="desk@buyer.example")
    place(seller, instrument, "sell", "10.0", "12.00")
    placed = place(buyer, instrument, "buy", "4.0", "14.00")
    [trade] = placed.fills

    [(headers, body)] = receiver.received
    assert verify_signature(secret, headers, body)
    event = receiver.bodies()[0]
    assert event["id"] == f"evt_fill_{trade.pk}_{buyer.pk}"
    assert event["type"] == "fill"
    data = event["data"]
    assert data["trade_id"] == trade.pk
    assert data["order_id"] == placed.order.pk
    assert data["instrument"] == instrument.symbol
    assert data["side"] == "buy"
    assert data["quantity"] == "4.0"
    assert data["price"] == "12.00"
    assert data["liquidity"] == "taker"

    [message] = mail.outbox
    assert message.to == ["desk@buyer.example"]
    assert message.subject.startswith("[Yiwang] Fill: bought 4.0 SCU-h")
    assert instrument.symbol in message.subject
    assert event["id"] in message.body

    deliveries = NotificationDelivery.objects.filter(notification__participant=buyer)
    assert sorted(deliveries.values_list("channel", "status")) == [
        ("email", "delivered"),
        ("webhook", "delivered"),
    ]
    assert not Notification.objects.filter(participant=seller).exists()

    # The sweep finds nothing new: the fill is not sent twice.
    fills_sweep()
    assert len(receiver.received) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_sweep_collects_fills_the_hook_missed(
    catalogue, loopback, receiver, monkeypatch
):
    """The after-commit enqueue is only a speed-up: with it gone (a broker down at
    that moment), beat's sweep reads the fills from the event log."""
    from exchange.notifications import tasks

    monkeypatch.setattr(tasks, "_collect_if_wanted", lambda *args: None)
    instrument = make_instrument()
    seller, buyer = make_seller(), make_buyer()
    subscribe(seller, url=receiver.url)
    place(seller, instrument, "sell", "10.0", "12.00")
    place(buyer, instrument, "buy", "2.0", "14.00")
    place(buyer, instrument, "buy", "3.0", "14.00")
    assert receiver.received == []
    assert fills_sweep() == {instrument.symbol: 2}
    events = receiver.bodies()
    assert [(e["type"], e["data"]["side"], e["data"]["quantity"]) for e in events] == [
        ("fill", "sell", "2.0"),
        ("fill", "sell", "3.0"),
    ]
    assert fills_sweep() == {}


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_settlement_change_notifies_nobody(catalogue, loopback, receiver):
    """The outbox row of a settlement change commits or rolls back with it."""
    from datetime import timedelta

    from settlement.services import delivery_dispute

    instrument = make_instrument()
    seller, buyer = make_seller(), make_buyer()
    place(seller, instrument, "sell", "10.0", "12.00")
    [trade] = place(buyer, instrument, "buy", "4.0", "14.00").fills
    subscribe(seller, url=receiver.url)

    def dispute_then_fail():
        with transaction.atomic():
            delivery_dispute(
                participant=buyer,
                trade_id=trade.pk,
                now=instrument.delivery_start + timedelta(hours=1),
            )
            raise RuntimeError("the caller's transaction fails after the change")

    with pytest.raises(RuntimeError):
        dispute_then_fail()
    assert not Notification.objects.exists()
    assert receiver.received == []
