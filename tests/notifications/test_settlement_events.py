"""Delivery reports, disputes, resolutions and settlements reach the parties who
want them (written to the outbox with the change), and providers are reminded once
of a report that is due."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from market.models import Notification
from settlement import notify
from settlement.services import (
    delivery_dispute,
    delivery_report,
    dispute_resolve,
    trade_settle,
)
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.factories import UserFactory

from .conftest import subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def traded(catalogue):
    instrument = make_instrument()
    seller, buyer = make_seller(), make_buyer()
    place(seller, instrument, "sell", "10.0", "12.00")
    [trade] = place(buyer, instrument, "buy", "4.0", "14.00").fills
    return instrument, seller, buyer, trade


def events_of(participant) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(participant=participant)
        .order_by("pk")
        .values_list("type", "event_id")
    )


def test_report_dispute_resolution_and_settlement_are_notified(
    traded, loopback, receiver, django_capture_on_commit_callbacks
):
    instrument, seller, buyer, trade = traded
    subscribe(seller, url=receiver.url)
    subscribe(buyer, url=receiver.url)
    during = instrument.delivery_start + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            delivery_report(
                participant=seller,
                trade_id=trade.pk,
                delivered=Decimal("3.0"),
                now=during,
            )
        with transaction.atomic():
            delivery_dispute(participant=buyer, trade_id=trade.pk, now=during)
        with transaction.atomic():
            dispute_resolve(
                trade_id=trade.pk,
                delivered=Decimal("3.5"),
                resolved_by=UserFactory(),
                now=during,
            )
        with transaction.atomic():
            trade_settle(trade_id=trade.pk, now=instrument.delivery_end)
    assert [t for t, _id in events_of(buyer)] == [
        "reported",
        "disputed",
        "resolved",
        "settled",
    ]
    assert [t for t, _id in events_of(seller)] == ["disputed", "resolved", "settled"]
    by_type = {(e["type"], e["data"]["role"]): e for e in receiver.bodies()}
    reported = by_type["reported", "buyer"]["data"]
    assert reported["delivered_quantity"] == "3.0"
    assert reported["deadline"] is not None  # confirm or dispute by then
    settled = by_type["settled", "seller"]["data"]
    assert settled["delivered_quantity"] == "3.5"
    assert settled["status"] == "settled"
    assert len(receiver.received) == 7


def test_a_due_report_is_reminded_once(
    traded, loopback, receiver, django_capture_on_commit_callbacks
):
    """After the window, before the deadline, with no report: the provider hears
    once, however often the job runs; before the window ends, nothing."""
    instrument, seller, buyer, trade = traded
    subscribe(seller, url=receiver.url, categories=["deadlines"])
    assert (
        notify.reports_due_notify(now=instrument.delivery_end - timedelta(hours=1)) == 0
    )
    after = instrument.delivery_end + timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.reports_due_notify(now=after) == 1
        notify.reports_due_notify(now=after + timedelta(minutes=1))
    [event] = receiver.bodies()
    assert event["type"] == "report_due"
    assert event["id"] == f"evt_report_due_{trade.pk}_{seller.pk}"
    assert event["data"]["role"] == "seller"
    assert event["data"]["deadline"] is not None
    assert not Notification.objects.filter(participant=buyer).exists()
