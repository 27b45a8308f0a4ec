"""Placing orders through the service: holds, matching across regions, refusals that
write nothing, idempotent client order ids."""

from decimal import Decimal

import pytest

from exchange.exceptions import (
    ClientOrderIdConflict,
    FokNotFillable,
    InstrumentNotOpen,
    InsufficientCapacity,
    OffGrid,
    PermissionDenied,
    PostOnlyWouldCross,
    PriceOutOfBand,
    PriceRequired,
)
from exchange.models import Order, OrderEvent, Trade
from market.models import Surcharge
from settlement.exceptions import InsufficientFunds
from settlement.models import Account, Hold
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.settlement.helpers import balance, platform

pytestmark = pytest.mark.django_db


def surcharge(instrument, sell, buy) -> Decimal:
    return Surcharge.objects.get(
        table=instrument.surcharge_table, sell_region__code=sell, buy_region__code=buy
    ).surcharge


def test_resting_buy_holds_quantity_times_limit_plus_fee(instrument, buyer):
    placed = place(buyer, instrument, "buy", "100.0", "13.00")
    order = placed.order
    assert (order.status, order.remaining_quantity) == ("open", Decimal("100.0"))
    # 1300 + 10 bps (the larger of maker 5 and taker 10), rounded up.
    assert balance(buyer, "held") == Decimal("1301.3000")
    instrument.refresh_from_db()
    assert instrument.best_bid == Decimal("13.00")
    assert instrument.sequence == 1


def test_crossing_sell_trades_at_resting_bid_minus_surcharge(instrument, buyer, seller):
    s = surcharge(instrument, "CLU-GUIAN", "CITY-SH")
    assert s > 0
    buy = place(buyer, instrument, "buy", "100.0", "13.00").order
    placed = place(seller, instrument, "sell", "40.0", "12.00")
    [trade] = placed.fills
    assert trade.all_in_price == Decimal("13.00")  # the resting buy's price
    assert trade.price == Decimal("13.00") - s  # the provider gets bid - surcharge
    assert trade.aggressor == "sell"
    buy.refresh_from_db()
    assert (buy.status, buy.filled_quantity) == ("partially_filled", Decimal("40.0"))
    assert placed.order.status == "filled"
    # The buyer's hold turned into escrow for 40 and stays for the 60 resting.
    assert (
        platform("escrow", instrument.symbol) == Decimal("520.0000") + trade.buyer_fee
    )
    assert balance(buyer, "held") == Decimal("780.7800")
    assert balance(seller, "bond") == (Decimal("0.1") * 40 * 12).quantize(
        Decimal("0.0001")
    )


def test_western_sell_wins_only_when_cheaper_all_in(instrument, buyer):
    """A Gui'an ask beats a Wuhu ask for a Shanghai buyer only if ask + s is lower."""
    west = make_seller("CLU-GUIAN")
    east = make_seller("CLU-WUHU", chip="nvidia-a100-80gb-sxm")
    s_west = surcharge(instrument, "CLU-GUIAN", "CITY-SH")
    s_east = surcharge(instrument, "CLU-WUHU", "CITY-SH")
    place(east, instrument, "sell", "10.0", "12.00")
    cheap = Decimal("12.00") + s_east - s_west - Decimal("0.01")
    place(west, instrument, "sell", "10.0", str(cheap))
    [trade] = place(buyer, instrument, "buy", "10.0", "14.00").fills
    assert trade.seller_id == west.pk
    assert trade.all_in_price == cheap + s_west


def test_fok_that_cannot_fill_writes_nothing(instrument, buyer, seller):
    place(seller, instrument, "sell", "10.0", "12.00")
    before = (Order.objects.count(), OrderEvent.objects.count(), balance(buyer))
    with pytest.raises(FokNotFillable):
        place(buyer, instrument, "buy", "20.0", "14.00", time_in_force="FOK")
    assert (Order.objects.count(), OrderEvent.objects.count(), balance(buyer)) == before
    instrument.refresh_from_db()
    assert instrument.sequence == 1


def test_insufficient_funds_is_refused_with_nothing_written(instrument):
    poor = make_buyer(money=100)
    with pytest.raises(InsufficientFunds, match=r"needs a hold of 130\.1300"):
        place(poor, instrument, "buy", "10.0", "13.00")
    assert not Order.objects.filter(participant=poor).exists()
    assert balance(poor) == 100


def test_client_order_id_replays_and_conflicts(instrument, buyer, seller):
    place(seller, instrument, "sell", "5.0", "12.00")
    first = place(buyer, instrument, "buy", "10.0", "14.00", client_order_id="bot-1")
    again = place(buyer, instrument, "buy", "10.0", "14.00", client_order_id="bot-1")
    assert (first.created, again.created) == (True, False)
    assert again.order.pk == first.order.pk
    assert [t.pk for t in again.fills] == [t.pk for t in first.fills]
    with pytest.raises(ClientOrderIdConflict):
        place(buyer, instrument, "buy", "11.0", "14.00", client_order_id="bot-1")
    assert Order.objects.filter(participant=buyer).count() == 1


def test_refused_order_does_not_use_up_client_order_id(instrument):
    poor = make_buyer(money=10)
    with pytest.raises(InsufficientFunds):
        place(poor, instrument, "buy", "10.0", "13.00", client_order_id="x-1")
    from tests.exchange.conftest import fund

    fund(poor, 1000)
    assert place(
        poor, instrument, "buy", "10.0", "13.00", client_order_id="x-1"
    ).created


def test_sell_beyond_cluster_capacity_is_refused(instrument):
    seller = make_seller(count=1)  # 1 x 910B x 24 h: about 22.2 SCU-h of train
    place(seller, instrument, "sell", "20.0", "12.00")
    with pytest.raises(InsufficientCapacity, match="chips"):
        place(seller, instrument, "sell", "5.0", "12.00")


def test_capacity_counts_sells_on_overlapping_windows_only(instrument):
    """A cluster's chips are committed per instant across instruments: a sell on a
    window that overlaps one it has filled does not fit, the same sell on a window
    after it does, alone and within one batch over two instruments."""
    from datetime import timedelta

    start = instrument.delivery_start
    overlapping = make_instrument(start=start + timedelta(hours=12), symbol="T-NOON")
    later = make_instrument(start=start + timedelta(days=1))
    seller = make_seller(count=1)  # about 22.2 SCU-h of train per 24 h
    place(seller, instrument, "sell", "20.0", "12.00")
    with pytest.raises(InsufficientCapacity, match="chips"):
        place(seller, overlapping, "sell", "5.0", "12.00")
    assert place(seller, later, "sell", "5.0", "12.00").created

    outcomes = _batch(
        seller,
        ("sell", later, "15.0", "12.00"),
        ("sell", overlapping, "3.0", "12.00"),
        ("sell", later, "5.0", "12.00"),
    )
    assert outcomes == ["Placed", "InsufficientCapacity", "InsufficientCapacity"]


def test_price_band_and_grid(instrument, buyer, seller):
    with pytest.raises(PriceOutOfBand):
        place(seller, instrument, "sell", "1.0", "14.41")  # hi = 12 x 1.2 = 14.40
    place(seller, instrument, "sell", "1.0", "14.40")
    with pytest.raises(OffGrid):
        place(buyer, instrument, "buy", "1.0", "13.005")
    with pytest.raises(OffGrid):
        place(buyer, instrument, "buy", "1.05", "13.00")


def test_market_order_without_band_needs_price(buyer):
    bare = make_instrument(opening=None, band=None, symbol="SPECIAL-1")
    with pytest.raises(PriceRequired):
        place(buyer, bare, "buy", "1.0", type="market", time_in_force="IOC")


def test_market_buy_against_empty_side_ends_cancelled(instrument, buyer):
    order = place(
        buyer, instrument, "buy", "5.0", type="market", time_in_force="IOC"
    ).order
    assert (order.status, order.cancel_reason) == ("cancelled", "ioc")
    assert balance(buyer, "held") == 0
    assert Hold.objects.get(reference=f"order:{order.pk}").status == "released"


def test_post_only_that_would_cross_is_refused(instrument, buyer, seller):
    place(seller, instrument, "sell", "5.0", "12.00")
    with pytest.raises(PostOnlyWouldCross):
        place(buyer, instrument, "buy", "5.0", "14.00", post_only=True)


def test_roles_are_enforced(instrument, buyer, seller):
    with pytest.raises(PermissionDenied):
        place(buyer, instrument, "sell", "1.0", "12.00", cluster=seller.cluster.pk)
    with pytest.raises(PermissionDenied):
        place(seller, instrument, "buy", "1.0", "12.00")


def test_halted_instrument_refuses_orders(instrument, buyer):
    from exchange.services.instruments import instrument_halt_set

    instrument_halt_set(instrument_id=instrument.pk, halted=True)
    with pytest.raises(InstrumentNotOpen):
        place(buyer, instrument, "buy", "1.0", "12.00")
    instrument_halt_set(instrument_id=instrument.pk, halted=False)
    assert place(buyer, instrument, "buy", "1.0", "12.00").created


def test_self_trade_cancels_the_resting_order(instrument):
    both = make_seller(is_buyer=True)
    resting = place(both, instrument, "sell", "5.0", "12.00").order
    other = make_seller("CLU-GUIAN")
    place(other, instrument, "sell", "5.0", "12.50")
    placed = place(both, instrument, "buy", "5.0", "14.00")
    resting.refresh_from_db()
    assert (resting.status, resting.cancel_reason) == ("cancelled", "self_trade")
    assert placed.fills[0].seller_id == other.pk
    assert Trade.objects.filter(buyer=both, seller=both).count() == 0


def test_every_balance_equals_its_postings(instrument, buyer, seller):
    place(buyer, instrument, "buy", "50.0", "13.00")
    place(seller, instrument, "sell", "30.0", "12.00")
    place(seller, instrument, "sell", "30.0", "12.50")
    for account in Account.objects.all():
        # Summed in Python: SQLite would add the decimals as floats.
        amounts = account.postings.values_list("amount", flat=True)
        assert account.balance == sum(amounts, Decimal(0)), account


def test_batch_over_two_instruments_holds_each_order_once(instrument):
    """Resting orders of one batch on two instruments share the participant's
    accounts (and, on PostgreSQL, one snapshot of them and one set of reserved
    journal keys): each order holds its own need, once, and the last one that does
    not fit is refused."""
    from exchange.reconcile import reconcile

    other = make_instrument(symbol="T-OTHER")
    buyer = make_buyer(money=2000)
    place(buyer, instrument, "buy", "1.0", "10.00")  # every account exists now

    outcomes = _batch(
        buyer,
        ("buy", instrument, "80.0", "10.00"),
        ("buy", other, "90.0", "10.00"),
        ("buy", other, "30.0", "10.00"),
    )
    assert outcomes == ["Placed", "Placed", "InsufficientFunds"]
    holds = {h.reference: h.amount for h in Hold.objects.filter(participant=buyer)}
    assert len(holds) == 3
    assert balance(buyer, "held") == sum(holds.values())
    assert balance(buyer, "available") == 2000 - sum(holds.values())
    assert not [f for _n, f in reconcile() if f]


def _batch(participant, *orders) -> list[str]:
    """Place (side, instrument, quantity, price) orders as one batch; the name of
    each outcome's type."""
    from exchange.services.placement import orders_place_batch
    from exchange.services.requests import OrderRequest

    requests = [
        OrderRequest(
            instrument=inst.symbol,
            side=side,
            quantity=Decimal(quantity),
            price=Decimal(price),
            **({"cluster": participant.cluster.pk} if side == "sell" else {}),
        )
        for side, inst, quantity, price in orders
    ]
    outcomes = orders_place_batch(participant=participant, requests=requests)
    return [type(o).__name__ for o in outcomes]
