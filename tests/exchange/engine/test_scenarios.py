"""Hand-written market situations, each checked event by event.

Regions: `east` (buyers, Shanghai-like), `west` (cheap green power, far away) and
`north`; s(west, east) = 5 ticks, s(north, east) = 2, latency west->east 40 ms.
"""

import pytest

from exchange.engine import (
    Accepted,
    Amended,
    Book,
    Cancelled,
    Constraints,
    Expired,
    Fill,
    Network,
    NewOrder,
    Rejected,
    Side,
    TimeInForce,
)

BUY, SELL = Side.BUY, Side.SELL
GTC, GTD, IOC, FOK = TimeInForce.GTC, TimeInForce.GTD, TimeInForce.IOC, TimeInForce.FOK
ANY = Constraints()
NOW = 1_000

NETWORK = Network(
    surcharge={("west", "east"): 5, ("north", "east"): 2, ("east", "west"): 5},
    latency_ms={("west", "east"): 40, ("north", "east"): 15, ("east", "west"): 40},
    green_share={"west": 80, "north": 30},
)


def sell(oid, price, qty=10, *, pid=None, region="east", stack="CUDA", **kw):
    return NewOrder(
        order_id=oid,
        participant_id=pid if pid is not None else 100 + oid,
        side=SELL,
        price=price,
        quantity=qty,
        tif=kw.pop("tif", GTC),
        region=region,
        stack=stack,
        **kw,
    )


def buy(oid, price, qty=10, *, pid=None, region="east", constraints=ANY, **kw):
    return NewOrder(
        order_id=oid,
        participant_id=pid if pid is not None else 100 + oid,
        side=BUY,
        price=price,
        quantity=qty,
        tif=kw.pop("tif", GTC),
        region=region,
        constraints=constraints,
        **kw,
    )


def book_with(*orders, network=NETWORK):
    book = Book(network)
    for order in orders:
        events = book.place(order, NOW)
        assert not isinstance(events[0], Rejected), events
    return book


def fills(events):
    return [e for e in events if isinstance(e, Fill)]


def test_partial_fills_when_one_price_holds_several_orders_follow_time_order():
    """A buy takes resting sells at one price oldest first, the last one partly."""
    book = book_with(sell(1, 100, 4), sell(2, 100, 4), sell(3, 100, 4))
    events = book.place(buy(9, 100, 10), NOW)
    assert events == [
        Accepted(4, 9, buy(9, 100, 10)),
        Fill(5, 9, 1, 1, 9, 100, 0, 4, 6, 0),
        Fill(6, 9, 2, 2, 9, 100, 0, 4, 2, 0),
        Fill(7, 9, 3, 3, 9, 100, 0, 2, 0, 2),
    ]
    assert [(o.order_id, o.remaining) for o in book.orders()] == [(3, 2)]


def test_market_order_when_it_sweeps_many_levels_cancels_its_remainder():
    """A market buy walks up the levels to its protection price; the rest is
    cancelled ("ioc") and nothing of it rests."""
    book = book_with(sell(1, 100, 2), sell(2, 101, 2), sell(3, 103, 2), sell(4, 130, 2))
    order = buy(9, 120, 10, tif=IOC, market=True)
    events = book.place(order, NOW)
    assert [(f.sell_order_id, f.price, f.quantity) for f in fills(events)] == [
        (1, 100, 2),
        (2, 101, 2),
        (3, 103, 2),
    ]
    assert events[-1] == Cancelled(9, 9, "ioc", 4)
    assert [o.order_id for o in book.orders()] == [4]


def test_ioc_when_partly_filled_cancels_the_remainder():
    """An IOC limit order trades what crosses and cancels the rest at once."""
    book = book_with(sell(1, 100, 3), sell(2, 105, 3))
    events = book.place(buy(9, 102, 5, tif=IOC), NOW)
    assert fills(events) == [Fill(4, 9, 1, 1, 9, 100, 0, 3, 2, 0)]
    assert events[-1] == Cancelled(5, 9, "ioc", 2)
    assert book.get(9) is None


def test_fok_when_not_fillable_leaves_the_book_unchanged_even_own_orders():
    """An unfillable FOK is rejected with no sequence number; the participant's own
    crossing order, which a real execution would cancel, stays where it was."""
    book = book_with(sell(1, 100, 3, pid=7), sell(2, 100, 3, pid=8))
    before, seq = book.orders(), book.sequence
    events = book.place(buy(9, 100, 5, pid=7, tif=FOK), NOW)
    assert events == [Rejected(9, "fok_not_fillable")]
    assert book.orders() == before
    assert book.sequence == seq


def test_fok_when_fillable_executes_and_cancels_own_orders_met():
    """A fillable FOK trades in full; own orders met on the way are cancelled."""
    book = book_with(sell(1, 100, 3, pid=7), sell(2, 100, 5, pid=8))
    events = book.place(buy(9, 100, 5, pid=7, tif=FOK), NOW)
    assert events[1:] == [
        Cancelled(4, 1, "self_trade", 3),
        Fill(5, 9, 2, 2, 9, 100, 0, 5, 0, 0),
    ]
    assert book.orders() == []


def test_amend_when_price_changes_loses_priority_but_decrease_keeps_it():
    """Lowering quantity keeps the queue place; a new price moves to the back."""
    book = book_with(sell(1, 100, 5), sell(2, 100, 5), sell(3, 101, 5))
    assert book.amend(1, NOW, remaining=2) == [Amended(4, 1, 100, 2, 1)]
    assert book.get(1).priority == 1
    assert book.amend(3, NOW, price=100) == [Amended(5, 3, 100, 5, 5)]
    events = book.place(buy(9, 100, 12), NOW)
    assert [f.sell_order_id for f in fills(events)] == [1, 2, 3]


def test_amend_when_quantity_rises_loses_priority():
    """Raising the resting quantity sends the order behind its peers."""
    book = book_with(sell(1, 100, 5), sell(2, 100, 5))
    assert book.amend(1, NOW, remaining=6) == [Amended(3, 1, 100, 6, 3)]
    events = book.place(buy(9, 100, 5), NOW)
    assert [f.sell_order_id for f in fills(events)] == [2]


def test_amend_when_new_price_crosses_trades_as_taker():
    """An amended order that now crosses trades at the resting order's price after
    its Amended event, and rests what is left with the new priority."""
    book = book_with(sell(1, 100, 3), buy(2, 95, 5))
    events = book.amend(2, NOW, price=101)
    assert events == [Amended(3, 2, 101, 5, 3), Fill(4, 2, 1, 1, 2, 100, 0, 3, 2, 0)]
    assert book.get(2).remaining == 2
    assert book.get(2).priority == 3


def test_far_sell_when_cheaper_all_in_wins_over_near_one():
    """West at 94 + 5 = 99 all-in beats east at 100; the seller gets its 94."""
    book = book_with(sell(1, 100, region="east"), sell(2, 94, region="west"))
    events = book.place(buy(9, 110, 5), NOW)
    assert fills(events) == [Fill(4, 9, 2, 2, 9, 94, 5, 5, 0, 5)]


def test_far_sell_when_not_cheaper_all_in_loses_to_near_one():
    """West at 96 + 5 = 101 loses to east at 100, though its site price is lower;
    at equal all-in price, time priority decides."""
    book = book_with(sell(1, 100, region="east"), sell(2, 96, region="west"))
    assert fills(book.place(buy(9, 110, 5), NOW))[0].sell_order_id == 1
    book = book_with(sell(1, 95, region="west"), sell(2, 100, region="east"))
    assert fills(book.place(buy(9, 110, 5), NOW))[0].sell_order_id == 1


def test_latency_bound_when_too_tight_excludes_a_far_cheaper_sell():
    """A buyer bounded to 20 ms never reaches west (40 ms), however cheap."""
    book = book_with(sell(1, 50, region="west"), sell(2, 100, region="north"))
    near = Constraints(max_latency_ms=20)
    events = book.place(buy(9, 110, 20, constraints=near), NOW)
    assert [(f.sell_order_id, f.surcharge) for f in fills(events)] == [(2, 2)]
    assert book.get(1) is not None


def test_stack_when_not_allowed_never_trades():
    """A CANN sell and a CUDA-only buy stay apart, crossed or not."""
    book = book_with(sell(1, 90, stack="CANN"))
    cuda = Constraints(stacks=frozenset({"CUDA"}))
    events = book.place(buy(9, 200, 5, constraints=cuda), NOW)
    assert fills(events) == []
    assert {o.order_id for o in book.orders()} == {1, 9}


def test_region_and_green_constraints_when_unmet_exclude_sells():
    """Residency (allowed regions) and a green-share minimum are both honoured;
    an unknown green share fails any minimum."""
    book = book_with(sell(1, 90, region="north"), sell(2, 95, region="west"))
    green = Constraints(min_green_share=50)
    assert (
        fills(book.place(buy(8, 200, 1, constraints=green), NOW))[0].sell_order_id == 2
    )
    only_east = Constraints(regions=frozenset({"east"}))
    assert fills(book.place(buy(9, 200, 1, constraints=only_east), NOW)) == []
    unknown = Network({}, {}, {})
    book = book_with(sell(1, 90), network=unknown)
    assert (
        fills(
            book.place(buy(9, 200, 1, constraints=Constraints(min_green_share=0)), NOW)
        )
        == []
    )


def test_market_order_when_side_is_empty_ends_cancelled():
    """Against an empty book a market order is accepted and at once cancelled."""
    book = Book(NETWORK)
    events = book.place(sell(9, 1, 5, tif=IOC, market=True), NOW)
    assert events == [
        Accepted(1, 9, sell(9, 1, 5, tif=IOC, market=True)),
        Cancelled(2, 9, "ioc", 5),
    ]
    assert book.orders() == []


def test_self_trade_when_met_cancels_resting_order_and_goes_on():
    """Matching reaches the participant's own sell: it is cancelled in full and the
    buy goes on to the next seller."""
    book = book_with(sell(1, 99, 5, pid=7), sell(2, 100, 5, pid=8))
    events = book.place(buy(9, 100, 3, pid=7), NOW)
    assert events[1:] == [
        Cancelled(4, 1, "self_trade", 5),
        Fill(5, 9, 2, 2, 9, 100, 0, 3, 0, 2),
    ]


def test_post_only_when_crossing_another_is_rejected_but_rests_over_own_orders():
    """Post-only ignores (and keeps) the participant's own orders."""
    book = book_with(sell(1, 100, 5, pid=7))
    assert book.place(buy(8, 100, 1, pid=6, post_only=True), NOW) == [
        Rejected(8, "post_only_would_cross")
    ]
    events = book.place(buy(9, 100, 1, pid=7, post_only=True), NOW)
    assert events == [Accepted(2, 9, buy(9, 100, 1, pid=7, post_only=True))]
    assert {o.order_id for o in book.orders()} == {1, 9}


def test_expired_order_when_met_during_matching_is_expired_not_traded():
    """A GTD sell due at `now` is expired before the buy matches; the buy trades
    with the next sell instead."""
    book = book_with(sell(1, 99, 5, tif=GTD, expires_at=NOW + 10), sell(2, 100, 5))
    events = book.place(buy(9, 100, 5), NOW + 10)
    assert events == [
        Expired(3, 1, 5),
        Accepted(4, 9, buy(9, 100, 5)),
        Fill(5, 9, 2, 2, 9, 100, 0, 5, 0, 0),
    ]


def test_cancel_when_order_is_due_returns_its_expiry_only():
    """Cancelling or amending an order already due reports it expired, nothing else."""
    book = book_with(sell(1, 99, 5, tif=GTD, expires_at=NOW + 10))
    assert book.cancel(1, NOW + 10) == [Expired(2, 1, 5)]
    assert book.cancel(1, NOW + 10) == [Rejected(1, "order_not_open")]


def test_resting_buy_when_hit_pays_its_bid_and_seller_gets_bid_minus_surcharge():
    """A west sell hitting an east buy at 110 all-in is paid 110 - 5 = 105."""
    book = book_with(buy(1, 110, 5))
    events = book.place(sell(9, 100, 5, region="west"), NOW)
    assert fills(events) == [Fill(3, 1, 9, 1, 9, 105, 5, 5, 0, 0)]


@pytest.mark.parametrize(
    "order",
    [
        buy(9, 100, 0),
        buy(9, 0, 1),
        buy(9, 100, constraints=None),
        buy(9, 100, stack="CUDA"),
        sell(9, 100, stack=None),
        sell(9, 100, constraints=ANY),
        buy(9, 100, market=True),
        buy(9, 100, tif=IOC, market=True, post_only=True),
        buy(9, 100, tif=IOC, post_only=True),
        buy(9, 100, tif=GTD),
        buy(9, 100, tif=GTD, expires_at=NOW),
        buy(9, 100, expires_at=NOW + 5),
        buy(9, 100, tif="gtc"),
    ],
)
def test_place_when_input_is_invalid_is_rejected_and_changes_nothing(order):
    """Malformed orders are refused with "invalid" and no sequence number."""
    book = book_with(sell(1, 100))
    assert book.place(order, NOW) == [Rejected(9, "invalid")]
    assert book.sequence == 1
    assert len(book) == 1


def test_place_when_id_rests_already_is_rejected_as_duplicate():
    """A resting order's id cannot be reused."""
    book = book_with(sell(1, 100))
    assert book.place(sell(1, 101), NOW) == [Rejected(1, "duplicate_order_id")]


def test_cancel_all_when_side_given_cancels_that_side_in_priority_order():
    """Only the participant's orders of that side go, oldest first."""
    book = book_with(
        sell(1, 100, pid=7), buy(2, 90, pid=7), sell(3, 101, pid=7), sell(4, 102)
    )
    assert book.cancel_all(7, NOW, side=SELL) == [
        Cancelled(5, 1, "user", 10),
        Cancelled(6, 3, "user", 10),
    ]
    assert {o.order_id for o in book.orders()} == {2, 4}


def test_close_when_gate_passes_cancels_everything():
    """Gate closure cancels every resting order with the given reason."""
    book = book_with(sell(1, 100), buy(2, 90))
    assert book.close(NOW) == [Cancelled(3, 1, "gate", 10), Cancelled(4, 2, "gate", 10)]
    assert len(book) == 0


def test_depth_when_book_has_regions_shows_site_and_all_in_prices():
    """Asks are shown at the site, bids all-in, and the locational price of east
    is the cheapest ask plus its surcharge into east."""
    book = book_with(
        sell(1, 100, 3, region="east"),
        sell(2, 94, 2, region="west"),
        sell(3, 99, 1, region="north", stack="CANN"),
        buy(4, 90, 4),
        buy(5, 90, 1, constraints=Constraints(max_latency_ms=5)),
    )
    assert book.best_ask() == 94
    assert book.best_bid() == 90
    assert [tuple(a) for a in book.asks()] == [
        (94, "west", "CUDA", 2),
        (99, "north", "CANN", 1),
        (100, "east", "CUDA", 3),
    ]
    assert [tuple(b) for b in book.bids()] == [(90, "east", 5)]
    assert book.locational_price("east") == 99
    assert book.locational_price("east", "CANN") == 101
    assert book.locational_price("west") == 94
    assert [a.all_in_price for a in book.asks_for("east")] == [99, 100, 101]
