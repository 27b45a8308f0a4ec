"""Races on PostgreSQL with real threads, each on its own connection: two instruments
drawing on one balance, and cancel, amend and a fill of one order at once. Nothing is
lost under them: every refusal is a domain error that wrote nothing, every accepted
order holds what it needs, and `manage.py reconcile` passes afterwards."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from exchange.exceptions import OrderNotOpen
from exchange.models import Instrument, Order, OrderEvent, Trade
from exchange.services.orders import Amended, order_amend, order_cancel
from settlement.exceptions import InsufficientFunds
from settlement.models import Hold, JournalEntry, Obligation
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.settlement.helpers import balance
from tests.threads import threads_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def assert_reconciled() -> None:
    """`manage.py reconcile` finds every invariant holding (it exits 1 otherwise)."""
    out = io.StringIO()
    try:
        call_command("reconcile", stdout=out)
    except SystemExit:
        pytest.fail(out.getvalue())
    assert "All invariants hold." in out.getvalue()


def test_buys_on_two_instruments_never_hold_more_than_the_balance(catalogue):
    """A buyer with 3500.00 CNY sends eight buys of 1001.00 each (100 x 10.00 and
    the 10 bps fee part) at once, four on TRAIN and four on INFER, whose locks do
    not exclude each other. Exactly three are accepted, each with its hold; the five
    others are insufficient_funds and left no order, sequence number or entry."""
    train, infer = make_instrument("train"), make_instrument("infer")
    buyer = make_buyer(money=3500)
    deposited = JournalEntry.objects.count()

    def buy(i):
        return place(buyer, (train, infer)[i % 2], "buy", "100.0", "10.00").order

    results = threads_together(8, buy)
    accepted = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if not isinstance(r, Order)]
    assert len(accepted) == 3, results
    assert [type(r) for r in refused] == [InsufficientFunds] * 5, refused
    # Each refusal says what was short against the balance the three left: from the
    # funds check, or from the ledger when the account moved after that check.
    said = (
        "needs a hold of 1001.0000 CNY; 497.0000 CNY is available",
        "short by 504.0000 CNY",
    )
    for r in refused:
        assert r.code == "insufficient_funds"
        assert any(words in str(r) for words in said), r

    assert balance(buyer, "held") == Decimal("3003.00") <= Decimal(3500)
    assert balance(buyer) == Decimal("497.00")
    holds = Hold.objects.filter(participant=buyer)
    assert {(h.reference, h.status, h.amount) for h in holds} == {
        (f"order:{o.pk}", "open", Decimal("1001.00")) for o in accepted
    }
    # A refusal writes nothing: no order, no event, no sequence number, no entry.
    assert set(Order.objects.values_list("pk", flat=True)) == {o.pk for o in accepted}
    for instrument in (train, infer):
        mine = sum(o.instrument_id == instrument.pk for o in accepted)
        assert Instrument.objects.get(pk=instrument.pk).sequence == mine
        assert OrderEvent.objects.filter(instrument=instrument).count() == mine
    assert JournalEntry.objects.count() == deposited + 3
    assert_reconciled()


# The amend each round races with: a smaller quantity keeps priority and shrinks
# the hold; a higher price or a larger quantity loses priority and grows it.
AMENDS = [
    {"quantity": Decimal("6.0")},
    {"price": Decimal("12.50")},
    {"quantity": Decimal("14.0")},
] * 2


@pytest.mark.parametrize(
    "amend", AMENDS, ids=lambda a: ",".join(f"{k}={v}" for k, v in a.items())
)
def test_cancel_amend_and_fill_of_one_order_at_once_have_one_outcome(catalogue, amend):
    """A resting buy of 10.0 at 12.00 is cancelled, amended and hit by an IOC sell
    of 10.0 at 12.00, all at once. The order ends as one serial order of those
    would leave it: cancelled or filled; the amend counted only if it came first;
    a refused cancel or amend is order_not_open; filled + remaining never exceeds
    the quantity; its hold is released, and the buyer paid for what it bought."""
    instrument = make_instrument()
    buyer, seller = make_buyer("CLU-GUIAN"), make_seller("CLU-GUIAN")
    money = balance(buyer)
    order = place(buyer, instrument, "buy", "10.0", "12.00").order

    def racer(i):
        if i == 0:
            return order_cancel(participant=buyer, order_id=order.pk)
        if i == 1:
            return order_amend(participant=buyer, order_id=order.pk, **amend)
        return place(seller, instrument, "sell", "10.0", "12.00", time_in_force="IOC")

    cancelled, amended, sell = threads_together(3, racer)
    order.refresh_from_db()
    trades = list(Trade.objects.filter(buy_order=order))
    filled = sum((t.quantity for t in trades), Decimal(0))

    assert order.status in ("cancelled", "filled")
    assert order.remaining_quantity == 0
    assert order.filled_quantity == filled
    assert order.filled_quantity + order.remaining_quantity <= order.quantity
    assert not isinstance(sell, Exception), sell  # an IOC sell is always accepted
    assert [t.pk for t in sell.fills] == [t.pk for t in trades]
    if order.status == "cancelled":
        assert isinstance(cancelled, Order)
        assert cancelled.status == "cancelled"
    else:
        assert isinstance(cancelled, OrderNotOpen), cancelled
        assert filled == order.quantity
    # The amend counted exactly when it succeeded (it then came before the rest).
    if isinstance(amended, Amended):
        assert {k: getattr(order, k) for k in amend} == amend
    else:
        assert isinstance(amended, OrderNotOpen), amended
        assert (order.quantity, order.price) == (Decimal("10.0"), Decimal("12.00"))
    assert all(t.price == order.price for t in trades)

    hold = Hold.objects.get(reference=f"order:{order.pk}")
    assert (hold.status, hold.amount) == ("released", 0)
    assert balance(buyer, "held") == 0
    # What left the buyer is in escrow for what it bought, no more and no less.
    escrowed = sum(
        (
            ob.escrow_amount + ob.buyer_fee_escrowed
            for ob in Obligation.objects.filter(buyer=buyer)
        ),
        Decimal(0),
    )
    assert escrowed == sum(
        (t.quantity * t.all_in_price * Decimal("1.0005") for t in trades), Decimal(0)
    )  # the resting buy is the maker: 5 bps
    assert balance(buyer) == money - escrowed
    assert_reconciled()
