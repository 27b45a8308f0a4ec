"""Cancel, cancel-all, amend, expiry, gate closure, and settlement of a whole
instrument, each checked on the book, the orders and the money."""

import copy
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exchange import books
from exchange.exceptions import (
    InsufficientCapacity,
    InvalidOrder,
    NotFound,
    OrderNotOpen,
    PostOnlyWouldCross,
)
from exchange.locks import instrument_for_update
from exchange.models import Instrument, Order
from exchange.reconcile import reconcile
from exchange.services import instruments as lifecycle
from exchange.services.orders import order_amend, order_cancel, orders_cancel_all
from settlement.exceptions import InsufficientFunds
from settlement.models import Obligation
from tests.exchange.conftest import make_buyer, make_seller, place
from tests.settlement.helpers import balance, platform

pytestmark = pytest.mark.django_db


def assert_reconciled():
    failures = {name: f for name, f in reconcile() if f}
    assert not failures


def test_cancel_releases_the_hold(instrument, buyer):
    order = place(buyer, instrument, "buy", "10.0", "13.00").order
    cancelled = order_cancel(participant=buyer, order_id=order.pk)
    assert (cancelled.status, cancelled.remaining_quantity) == ("cancelled", 0)
    assert balance(buyer, "held") == 0
    with pytest.raises(OrderNotOpen):
        order_cancel(participant=buyer, order_id=order.pk)
    assert_reconciled()


def test_cancel_of_anothers_order_is_not_found(instrument, buyer):
    order = place(buyer, instrument, "buy", "10.0", "13.00").order
    with pytest.raises(NotFound):
        order_cancel(participant=make_buyer(), order_id=order.pk)


def test_cancel_all_by_side_and_instrument(instrument):
    both = make_seller(is_buyer=True)
    b1 = place(both, instrument, "buy", "1.0", "10.00").order
    s1 = place(both, instrument, "sell", "1.0", "14.00").order
    ids = orders_cancel_all(participant=both, instrument=instrument.symbol, side="buy")
    assert ids == [b1.pk]
    assert Order.objects.get(pk=s1.pk).status == "open"
    assert orders_cancel_all(participant=both) == [s1.pk]
    assert_reconciled()


def test_price_amend_loses_priority_and_quantity_decrease_keeps_it(instrument, seller):
    other = make_seller()
    first = place(seller, instrument, "sell", "10.0", "12.00").order
    second = place(other, instrument, "sell", "10.0", "12.00").order
    order_amend(participant=seller, order_id=first.pk, quantity=Decimal("8.0"))
    buyer = make_buyer("CLU-GUIAN")  # local buyer: no surcharge
    [trade] = place(buyer, instrument, "buy", "5.0", "12.00").fills
    assert trade.sell_order_id == first.pk  # kept its place
    order_amend(participant=seller, order_id=first.pk, price=Decimal("12.01"))
    order_amend(participant=seller, order_id=first.pk, price=Decimal("12.00"))
    [trade] = place(buyer, instrument, "buy", "1.0", "12.00").fills
    assert trade.sell_order_id == second.pk  # first went to the back of the queue
    assert_reconciled()


def test_amend_that_crosses_trades_as_taker(instrument, buyer, seller):
    place(seller, instrument, "sell", "10.0", "12.50")
    bid = place(buyer, instrument, "buy", "10.0", "12.00").order
    amended = order_amend(participant=buyer, order_id=bid.pk, price=Decimal("14.00"))
    assert amended.order.status == "filled"
    assert amended.fills[0].aggressor == "buy"
    assert balance(buyer, "held") == 0
    assert_reconciled()


def test_amend_checks_funds_capacity_and_quantity(instrument):
    poor = make_buyer(money=200)
    bid = place(poor, instrument, "buy", "10.0", "13.00").order
    with pytest.raises(InsufficientFunds):
        order_amend(participant=poor, order_id=bid.pk, quantity=Decimal("20.0"))
    small = make_seller(count=1)
    ask = place(small, instrument, "sell", "20.0", "12.00").order
    with pytest.raises(InsufficientCapacity):
        order_amend(participant=small, order_id=ask.pk, quantity=Decimal("30.0"))
    with pytest.raises(InvalidOrder):
        order_amend(participant=small, order_id=ask.pk, quantity=Decimal("0.0"))
    assert_reconciled()


def test_post_only_amend_that_would_cross_changes_nothing(instrument, buyer, seller):
    place(seller, instrument, "sell", "5.0", "12.50")
    bid = place(buyer, instrument, "buy", "5.0", "12.00", post_only=True).order
    with pytest.raises(PostOnlyWouldCross):
        order_amend(participant=buyer, order_id=bid.pk, price=Decimal("14.00"))
    bid.refresh_from_db()
    assert bid.price == Decimal("12.00")


def test_gtd_orders_expire_on_time(instrument, buyer):
    soon = timezone.now() + timedelta(minutes=5)
    order = place(
        buyer, instrument, "buy", "10.0", "13.00", time_in_force="GTD", expires_at=soon
    ).order
    assert lifecycle.orders_expire_run(now=soon - timedelta(seconds=1)) == 0
    assert lifecycle.orders_expire_run(now=soon) == 1
    order.refresh_from_db()
    assert order.status == "expired"
    assert balance(buyer, "held") == 0
    assert_reconciled()


def test_gate_closure_cancels_resting_orders(instrument, buyer, seller):
    place(buyer, instrument, "buy", "10.0", "11.00")
    place(seller, instrument, "sell", "10.0", "13.00")
    assert lifecycle.instruments_close_run(now=instrument.gate_closure_at) == [
        instrument.symbol
    ]
    instrument.refresh_from_db()
    assert instrument.state == "closed"
    assert not Order.objects.filter(status__in=Order.OPEN_STATUSES).exists()
    assert balance(buyer, "held") == balance(seller, "bond") == 0
    assert_reconciled()


def test_instrument_settles_after_window_and_pays_network(instrument, seller):
    """Guian sells 10 SCU-h at 12.00 to Shanghai (surcharge 0.02, all-in 12.02); 8.0
    are delivered and the buyer stays silent. After the window the trade settles:

    - network operator: 8 x 0.02 = 0.16;
    - seller: 8 x 12 = 96.00 less its 5 bps maker fee 0.0480, and pays the shortfall
      penalty 12.00 bond x 2/10 = 2.40 out of its bond: +93.5520;
    - buyer: 8 x 12.02 = 96.16 plus its 10 bps taker fee 0.0961 (rounded down), less
      the penalty: -93.8561;
    - platform fees: 0.0480 + 0.0961 = 0.1441; escrow: 0.
    """
    from market.models import Participant
    from settlement.services import delivery_report
    from tests.factories import ParticipantFactory

    netop = ParticipantFactory(
        is_network_operator=True, is_buyer=False, is_seller=False
    )
    buyer = make_buyer("CITY-SH")
    before = {p: balance(p) for p in (buyer, seller)}
    place(seller, instrument, "sell", "10.0", "12.00")
    [trade] = place(buyer, instrument, "buy", "10.0", "14.00").fills
    assert (trade.price, trade.surcharge) == (Decimal("12.00"), Decimal("0.02"))
    lifecycle.instruments_close_run(now=instrument.gate_closure_at)
    with transaction.atomic():
        delivery_report(
            participant=seller,
            trade_id=trade.pk,
            delivered=Decimal("8.0"),
            now=instrument.delivery_end,
        )
    # Silence counts as confirmation.
    later = instrument.confirm_deadline_at
    assert lifecycle.instruments_settle_run(now=later) == [instrument.symbol]
    assert Obligation.objects.get(trade_id=trade.pk).status == "settled"
    assert Instrument.objects.get(pk=instrument.pk).state == "settled"
    assert balance(Participant.objects.get(pk=netop.pk)) == Decimal("0.16")
    assert balance(seller) - before[seller] == Decimal("93.5520")
    assert balance(buyer) - before[buyer] == Decimal("-93.8561")
    assert balance(buyer, "held") == balance(seller, "bond") == 0
    assert platform("fees", instrument.symbol) == Decimal("0.1441")
    assert platform("escrow", instrument.symbol) == 0
    assert platform("network", instrument.symbol) == 0  # paid out
    assert_reconciled()


def test_book_rebuilt_from_database_equals_live_book(instrument):
    """After random activity, a book rebuilt from the open orders equals the warm one,
    and one caught up from the event log equals it too."""
    rng = random.Random(7)
    buyers = [make_buyer(r) for r in ("CITY-SH", "CITY-BJ", "CLU-GUIAN")]
    sellers = [make_seller(r) for r in ("CLU-GUIAN", "CLU-WUHU", "CLU-ZHONGWEI")]
    open_ids = []
    stale = None
    for step in range(60):
        if step == 20:  # what another process's book knows: it missed what follows
            stale = copy.deepcopy(books._books[instrument.pk])
        roll = rng.random()
        if roll < 0.4:
            p = rng.choice(buyers)
            o = place(
                p,
                instrument,
                "buy",
                f"{rng.randint(1, 30)}.0",
                f"{rng.randint(1150, 1350) / 100:.2f}",
            ).order
        elif roll < 0.8:
            p = rng.choice(sellers)
            o = place(
                p,
                instrument,
                "sell",
                f"{rng.randint(1, 30)}.0",
                f"{rng.randint(1100, 1300) / 100:.2f}",
            ).order
        else:
            live = Order.objects.filter(pk__in=open_ids, status__in=Order.OPEN_STATUSES)
            if live:
                victim = rng.choice(list(live))
                order_cancel(participant=victim.participant, order_id=victim.pk)
            continue
        open_ids.append(o.pk)
    instrument.refresh_from_db()
    warm = books._books[instrument.pk]
    rebuilt = books.book_rebuild(instrument)
    assert rebuilt.orders() == warm.orders()
    assert rebuilt.sequence == warm.sequence == instrument.sequence
    assert stale.sequence < instrument.sequence
    books._books[instrument.pk] = stale
    with transaction.atomic():
        caught_up = books.book_checkout(instrument_for_update(instrument.pk))
    assert caught_up is stale  # applied the events it missed, not rebuilt
    assert caught_up.orders() == warm.orders()
    assert caught_up.sequence == instrument.sequence
    assert_reconciled()


@pytest.mark.parametrize(("resting", "rebuilt"), [(6, False), (2, True)])
def test_book_catches_up_as_far_as_its_size_makes_it_worth(
    instrument, monkeypatch, resting, rebuilt
):
    """A book further behind than CATCH_UP_LIMIT still catches up when it holds
    enough orders that a rebuild would cost more (CATCH_UP_PER_ORDER events per
    order); a smaller book that far behind is rebuilt. Either way it ends equal to
    the database."""
    monkeypatch.setattr(books, "CATCH_UP_LIMIT", 3)
    monkeypatch.setattr(books, "CATCH_UP_PER_ORDER", 1)
    buyer, seller = make_buyer(), make_seller()
    for i in range(resting):
        place(buyer, instrument, "buy", "1.0", f"{11 + i / 10:.2f}")
    stale = copy.deepcopy(books._books[instrument.pk])
    for _ in range(2):  # another process: two fills and two accepted, 4 events
        place(seller, instrument, "sell", "2.0", "14.00")
        place(buyer, instrument, "buy", "2.0", "14.00")
    instrument.refresh_from_db()
    assert instrument.sequence - stale.sequence == 4
    books._books[instrument.pk] = stale
    place(buyer, instrument, "buy", "1.0", "10.00")
    assert (books._books[instrument.pk] is not stale) is rebuilt
    instrument.refresh_from_db()
    assert (
        books._books[instrument.pk].orders() == books.book_rebuild(instrument).orders()
    )
    assert_reconciled()


@pytest.mark.postgres
def test_placement_catches_up_with_the_events_read_with_its_lock(instrument):
    """The events a warm book missed come in the instrument lock's round trip."""
    buyer, seller = make_buyer(), make_seller()
    place(seller, instrument, "sell", "5.0", "12.50")
    stale = copy.deepcopy(books._books[instrument.pk])
    place(seller, instrument, "sell", "5.0", "12.40")
    place(buyer, instrument, "buy", "2.0", "14.00")  # fills the better sell, in part
    books._books[instrument.pk] = stale  # another process placed those two
    with CaptureQueriesContext(connection) as sent:
        placed = place(buyer, instrument, "buy", "4.0", "14.00")
    assert [t.price for t in placed.fills] == [Decimal("12.40"), Decimal("12.50")]
    assert not [q for q in sent if q["sql"].startswith("SELECT kind, sequence")]
    instrument.refresh_from_db()
    rebuilt = books.book_rebuild(instrument)
    assert books._books[instrument.pk].orders() == rebuilt.orders()
    assert_reconciled()


def test_cluster_count_cannot_drop_below_commitments(instrument):
    from exchange.services.clusters import cluster_resize

    seller = make_seller(count=10)
    # 100 SCU-h / (0.923 x 24) = 4.5 chips
    place(seller, instrument, "sell", "100.0", "12.00")
    with pytest.raises(InsufficientCapacity):
        cluster_resize(cluster_id=seller.cluster.pk, count=4)
    assert cluster_resize(cluster_id=seller.cluster.pk, count=5).count == 5
    with pytest.raises(InsufficientCapacity):
        place(seller, instrument, "sell", "20.0", "12.00")


def test_cluster_commitments_follow_sells_and_reconcile_notices_a_wrong_one(
    instrument, seller
):
    """The kept sum per cluster and instrument moves with every sell (placed,
    amended, filled, cancelled); a sum that disagrees with the orders is reported."""
    from exchange.models import ClusterCommitment

    def kept():
        row = ClusterCommitment.objects.filter(
            cluster=seller.cluster, instrument=instrument
        ).first()
        return None if row is None else row.chips

    first = place(seller, instrument, "sell", "10.0", "12.00").order
    place(seller, instrument, "sell", "5.0", "12.50")
    assert kept() == sum(
        o.committed_chips for o in Order.objects.filter(cluster=seller.cluster)
    )
    assert kept() > 0
    order_amend(participant=seller, order_id=first.pk, quantity=Decimal("20.0"))
    place(make_buyer("CLU-GUIAN"), instrument, "buy", "4.0", "12.00")
    orders_cancel_all(participant=seller)
    # Filled SCU-h stay committed; cancelled ones are freed.
    filled = Order.objects.get(pk=first.pk)
    assert kept() == filled.committed_chips > 0
    assert_reconciled()
    ClusterCommitment.objects.filter(cluster=seller.cluster).update(chips=0)
    failures = dict(reconcile())[
        "each cluster's kept commitment is what its sells commit"
    ]
    assert len(failures) == 1
