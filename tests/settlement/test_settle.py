"""Trade settlement after the window: delivery versus payment, exactly once."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import close_old_connections, transaction
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from settlement import money, services
from settlement.models import Account, JournalEntry, Obligation
from tests.factories import ParticipantFactory
from tests.settlement.helpers import balance, deposit, platform, trade

pytestmark = pytest.mark.django_db


def settle(trade_id, now):
    with transaction.atomic():
        return services.trade_settle(trade_id=trade_id, now=now)


def report(ob, delivered, when=None):
    with transaction.atomic():
        services.delivery_report(
            participant=ob.seller,
            trade_id=ob.trade_id,
            delivered=Decimal(delivered),
            now=when or ob.delivery_start + timedelta(hours=1),
        )


def test_full_delivery_pays_seller_network_and_fees():
    buyer, seller = ParticipantFactory(), ParticipantFactory()
    deposit(buyer, 10_000)
    deposit(seller, 1_000)
    ob = trade(
        buyer=buyer,
        seller=seller,
        trade_id=1,
        quantity="100.0",
        price="12.00",
        surcharge="0.60",
        buyer_bps=10,
        seller_bps=5,
    )
    assert balance(buyer, "held") == 0
    assert platform("escrow", "TEST-1") == Decimal("1261.2600")  # 1260 + 10 bps
    assert balance(seller, "bond") == Decimal("120.0000")
    report(ob, "100.0")
    assert settle(1, ob.confirm_deadline)
    assert balance(seller) == Decimal(1000 + 1200 - Decimal("0.6000"))
    assert platform("network", "TEST-1") == Decimal("60.0000")
    assert platform("fees", "TEST-1") == Decimal("1.2600") + Decimal("0.6000")
    assert balance(buyer) == Decimal(10_000) - Decimal("1261.2600")
    assert platform("escrow", "TEST-1") == 0
    assert balance(seller, "bond") == 0


def test_shortfall_refunds_buyer_and_pays_penalty_from_bond():
    buyer, seller = ParticipantFactory(), ParticipantFactory()
    deposit(buyer, 5_000)
    deposit(seller, 500)
    ob = trade(
        buyer=buyer,
        seller=seller,
        trade_id=2,
        quantity="100.0",
        price="10.00",
        buyer_bps=0,
        seller_bps=0,
        bond_rate="0.20",
    )
    report(ob, "75.0")
    assert settle(2, ob.confirm_deadline)
    # Buyer pays 75 x 10, gets a quarter of the 200 bond.
    assert balance(buyer) == Decimal(5000 - 750 + 50)
    assert balance(seller) == Decimal(500 + 750 - 50)


def test_unreported_delivery_counts_as_zero():
    buyer, seller = ParticipantFactory(), ParticipantFactory()
    deposit(buyer, 1_000)
    deposit(seller, 100)
    ob = trade(buyer=buyer, seller=seller, trade_id=3, quantity="10.0", price="10.00")
    assert not settle(3, ob.confirm_deadline - timedelta(seconds=1))  # not yet due
    assert settle(3, ob.confirm_deadline)
    assert balance(buyer) == Decimal(1000) + Decimal("10.0000")  # full bond as penalty
    assert Obligation.objects.get(trade_id=3).delivered_quantity == 0


def test_settling_twice_posts_once():
    buyer, seller = ParticipantFactory(), ParticipantFactory()
    deposit(buyer, 1_000)
    deposit(seller, 100)
    ob = trade(buyer=buyer, seller=seller, trade_id=4, quantity="10.0", price="10.00")
    assert settle(4, ob.confirm_deadline)
    entries = JournalEntry.objects.count()
    assert not settle(4, ob.confirm_deadline)
    assert JournalEntry.objects.count() == entries


def test_disputed_trade_waits_for_operator():
    buyer, seller = ParticipantFactory(), ParticipantFactory()
    deposit(buyer, 1_000)
    deposit(seller, 100)
    ob = trade(
        buyer=buyer,
        seller=seller,
        trade_id=5,
        quantity="10.0",
        price="10.00",
        buyer_bps=0,
        seller_bps=0,
    )
    report(ob, "10.0")
    with transaction.atomic():
        services.delivery_dispute(
            participant=buyer, trade_id=5, now=ob.delivery_end, reason="half of it"
        )
    assert not settle(5, ob.confirm_deadline + timedelta(days=3))
    with transaction.atomic():
        services.dispute_resolve(
            trade_id=5,
            delivered=Decimal("5.0"),
            resolved_by=buyer.user,
            now=ob.confirm_deadline,
        )
    assert settle(5, ob.confirm_deadline)
    assert balance(buyer) == Decimal(1000 - 50 + 5)


@pytest.mark.parametrize(
    ("delivered", "message"), [("10.05", "grid"), ("10.1", "0 to"), ("-1", "0 to")]
)
def test_report_must_be_on_grid_and_within_quantity(delivered, message):
    buyer, seller = ParticipantFactory(), ParticipantFactory()
    deposit(buyer, 1_000)
    deposit(seller, 100)
    ob = trade(buyer=buyer, seller=seller, trade_id=6, quantity="10.0", price="10.00")
    with pytest.raises(services.SettlementError, match=message):
        report(ob, delivered)


def test_report_outside_window_is_refused():
    buyer, seller = ParticipantFactory(), ParticipantFactory()
    deposit(buyer, 1_000)
    deposit(seller, 100)
    ob = trade(buyer=buyer, seller=seller, trade_id=7, quantity="10.0", price="10.00")
    with pytest.raises(services.DeliveryNotAllowed):
        report(ob, "1.0", when=ob.delivery_start - timedelta(minutes=1))
    with pytest.raises(services.DeliveryNotAllowed):
        report(ob, "1.0", when=ob.report_deadline + timedelta(minutes=1))


class TestConservation(TestCase):
    """For random prices and quantities on the tick and lot grid: what the buyer paid
    = what the seller received + network + fees, to the 0.0001 CNY."""

    @given(
        ticks=st.integers(1, 100_000),
        lots=st.integers(1, 50_000),
        surcharge_ticks=st.integers(0, 500),
        delivered_share=st.integers(0, 100),
        buyer_bps=st.integers(0, 50),
        seller_bps=st.integers(0, 50),
        bond_rate=st.sampled_from(["0.00", "0.05", "0.10", "0.25"]),
    )
    def test_buyer_paid_equals_seller_network_fees(
        self,
        ticks,
        lots,
        surcharge_ticks,
        delivered_share,
        buyer_bps,
        seller_bps,
        bond_rate,
    ):
        price, qty = Decimal(ticks) / 100, Decimal(lots) / 10
        surcharge = Decimal(surcharge_ticks) / 100
        delivered = (qty * delivered_share / 100).quantize(Decimal("0.1"), "ROUND_DOWN")
        buyer, seller = ParticipantFactory(), ParticipantFactory()
        deposit(buyer, 10**9)
        deposit(seller, 10**8)
        tid = buyer.pk * 1000 + seller.pk
        ob = trade(
            buyer=buyer,
            seller=seller,
            trade_id=tid,
            quantity=str(qty),
            price=str(price),
            surcharge=str(surcharge),
            buyer_bps=buyer_bps,
            seller_bps=seller_bps,
            bond_rate=bond_rate,
            instrument=f"I{tid}",
        )
        report(ob, str(delivered))
        assert settle(tid, ob.confirm_deadline)
        paid = Decimal(10**9) - balance(buyer)
        received = balance(seller) - Decimal(10**8)
        network = platform("network", f"I{tid}")
        fees = platform("fees", f"I{tid}")
        assert paid == received + network + fees
        assert network == money.money(delivered * surcharge)
        assert platform("escrow", f"I{tid}") == 0
        assert balance(buyer, "held") == balance(seller, "bond") == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_settling_at_once_post_once(catalogue):
    buyer, seller = ParticipantFactory(), ParticipantFactory()
    deposit(buyer, 1_000)
    deposit(seller, 100)
    with transaction.atomic():
        ob = trade(
            buyer=buyer, seller=seller, trade_id=9, quantity="10.0", price="10.00"
        )
    results, barrier = [], threading.Barrier(2)

    def worker():
        barrier.wait()
        try:
            results.append(settle(9, ob.confirm_deadline))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]
    assert JournalEntry.objects.filter(idempotency_key="settle:trade:9").count() == 1
    assert Account.objects.get(kind="escrow", instrument="TEST-1").balance == 0
