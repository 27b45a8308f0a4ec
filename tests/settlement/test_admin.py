"""The ledger admin: a manual adjustment only takes a balanced entry and records who
made it and why; a dispute is resolved by setting the delivered quantity."""

from decimal import Decimal

import pytest

from settlement.models import Account, JournalEntry
from tests.factories import ParticipantFactory
from tests.settlement.helpers import balance, deposit, trade

pytestmark = pytest.mark.django_db
URL = "/admin/settlement/journalentry/adjust/"


def test_adjustment_must_balance(admin_client):
    p = ParticipantFactory()
    deposit(p, 100)
    available = Account.objects.get(participant=p, kind="available")
    external = Account.objects.get(kind="external")
    response = admin_client.post(URL, {"lines": f"{available.pk}: 5", "reason": "x"})
    assert "summing to 0" in response.content.decode()
    assert balance(p) == 100
    admin_client.post(
        URL,
        {
            "lines": f"{available.pk}: 5\n{external.pk}: -5",
            "reason": "bank fee refund",
        },
    )
    entry = JournalEntry.objects.get(kind="adjustment")
    assert entry.memo == "bank fee refund"
    assert entry.caused_by.username == "admin"
    assert balance(p) == 105


def test_adjustment_cannot_make_a_balance_negative(admin_client):
    p = ParticipantFactory()
    deposit(p, 1)
    available = Account.objects.get(participant=p, kind="available")
    external = Account.objects.get(kind="external")
    response = admin_client.post(
        URL,
        {
            "lines": f"{available.pk}: -2\n{external.pk}: 2",
            "reason": "oops",
        },
    )
    assert "Not enough" in response.content.decode()
    assert balance(p) == 1


def test_operator_resolves_dispute(admin_client):
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from settlement import services

    buyer, seller = ParticipantFactory(), ParticipantFactory()
    deposit(buyer, 1000)
    deposit(seller, 100)
    ob = trade(
        buyer=buyer,
        seller=seller,
        trade_id=77,
        quantity="10.0",
        price="10.00",
        start=timezone.now() - timedelta(hours=1),
    )
    with transaction.atomic():
        services.delivery_dispute(participant=buyer, trade_id=77, now=timezone.now())
    admin_client.post(
        "/admin/settlement/obligation/",
        {
            "action": "resolve_dispute",
            "_selected_action": [ob.pk],
            "apply": "1",
            "delivered_quantity": "6.0",
        },
    )
    ob.refresh_from_db()
    assert (ob.status, ob.delivered_quantity) == ("confirmed", Decimal("6.0"))
