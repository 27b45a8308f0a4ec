"""Rebuilding books: replaying another instance's events, and restoring from open
orders, both give a book that behaves exactly like the original from then on."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.engine import (
    Book,
    Constraints,
    Event,
    Network,
    NewOrder,
    Side,
    TimeInForce,
)
from tests.exchange.engine.harness import Harness, markets, random_steps


def _history(market, seed, length):
    harness = Harness(market)
    log: list[Event] = []
    for dt, cmd in random_steps(random.Random(seed), length):
        harness.now += dt
        log.extend(harness.step(cmd))
    return harness, log


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market=markets(), seed=st.integers(0, 2**32), cut=st.floats(0, 1))
def test_apply_when_warm_book_missed_a_suffix_catches_up(market, seed, cut):
    """A book that applied a prefix of the log and then the whole log (the missed
    part, the rest skipped as already seen) equals the live book, and the two then
    answer further commands identically."""
    harness, log = _history(market, seed, 120)
    sequenced = [e for e in log if hasattr(e, "seq")]
    warm = Book(market.network)
    warm.apply(sequenced[: int(len(sequenced) * cut)])
    warm.apply(log)
    assert warm.orders() == harness.live.orders()
    assert warm.sequence == harness.live.sequence
    harness.replica, harness.restored = (
        warm,
        Book.restore(market.network, harness.live.orders(), harness.live.sequence),
    )
    harness.run(random_steps(random.Random(seed + 1), 60))


def test_apply_when_events_have_a_gap_raises():
    """A missing sequence number means the caller must rebuild, not guess."""
    book = Book(Network({}))
    order = NewOrder(
        order_id=1,
        participant_id=1,
        side=Side.SELL,
        price=10,
        quantity=1,
        tif=TimeInForce.GTC,
        region="east",
        stack="CUDA",
    )
    source = Book(book.network)
    events = source.place(order, 0) + source.place(order._replace(order_id=2), 0)
    with pytest.raises(ValueError, match="gap"):
        book.apply(events[1:])


def test_restore_when_priorities_are_inconsistent_raises():
    """An open order cannot claim a priority after the book's sequence."""
    book = Book(Network({}))
    order = NewOrder(
        order_id=1,
        participant_id=1,
        side=Side.BUY,
        price=10,
        quantity=1,
        tif=TimeInForce.GTC,
        region="east",
        constraints=Constraints(),
    )
    book.place(order, 0)
    with pytest.raises(ValueError, match="inconsistent"):
        Book.restore(book.network, book.orders(), 0)
