"""Folding trades into bars (pure, no database): whatever the chunks the trades
arrive in, and whatever the order of their clock readings, the bars equal a
brute-force recomputation; a bar skips a trade it already holds."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.marketdata import bars as b
from tests.marketdata import brute

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 23:30 Beijing time: the trades straddle midnight, where the day bars part.
BASE = datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI)

prints_strategy = st.lists(
    st.tuples(
        st.integers(0, 2 * 86400),  # seconds after BASE
        st.integers(900, 1500),  # price in fen
        st.integers(1, 500),  # quantity in lots of 0.1
    ),
    min_size=1,
    max_size=60,
)


def _prints(rows) -> list[b.Print]:
    return [
        b.Print(
            sequence=10 + 3 * i,  # sequences have gaps: other events take numbers
            executed_at=BASE + timedelta(seconds=s),
            price=Decimal(p) / 100,
            quantity=Decimal(q) / 10,
        )
        for i, (s, p, q) in enumerate(rows)
    ]


@given(rows=prints_strategy, cuts=st.lists(st.integers(1, 60), max_size=8))
@pytest.mark.parametrize("interval", b.INTERVALS)
def test_fold_in_chunks_equals_brute_force(interval, rows, cuts):
    """Trades folded chunk by chunk (a chunk may also be folded twice) make the
    same bars as a recomputation from all trades at once."""
    prints = _prints(rows)
    bars: dict = {}
    done = 0
    for cut in [*cuts, len(prints)]:
        chunk = prints[done : done + cut]
        b.fold(bars, chunk, interval)
        b.fold(bars, chunk, interval)  # again: every trade is already held
        done += len(chunk)
    expected = brute.candles(prints, interval)
    assert {k: brute.as_dict(v) for k, v in bars.items()} == expected


def test_bucket_boundaries_follow_shanghai_clock():
    """A trade at 23:59:59 Beijing time and one at 00:00:00 fall in different days,
    though both are on the same UTC day."""
    late = datetime(2026, 3, 1, 23, 59, 59, tzinfo=SHANGHAI)
    assert b.bucket_start(late, "1d") == datetime(2026, 3, 1, tzinfo=SHANGHAI)
    assert b.bucket_start(late + timedelta(seconds=1), "1d") == datetime(
        2026, 3, 2, tzinfo=SHANGHAI
    )
    assert b.bucket_start(late, "1h") == datetime(2026, 3, 1, 23, tzinfo=SHANGHAI)
    assert b.bucket_start(late, "1m").minute == 59
    with pytest.raises(ValueError, match="unknown interval"):
        b.bucket_start(late, "5m")


def test_open_and_close_go_by_sequence_not_clock():
    """Two placements may read the clock in one order and take the lock in the
    other: the bar opens with the lower sequence."""
    at = datetime(2026, 3, 1, 10, 0, 30, tzinfo=SHANGHAI)
    first = b.Print(5, at + timedelta(seconds=10), Decimal("12.00"), Decimal("1.0"))
    second = b.Print(6, at, Decimal("13.00"), Decimal("3.0"))
    bars: dict = {}
    b.fold(bars, [first, second], "1m")
    [bar] = bars.values()
    assert (bar.open, bar.close) == (Decimal("12.00"), Decimal("13.00"))
    assert bar.vwap == Decimal("12.7500")
    with pytest.raises(ValueError, match="not after"):
        bar.add(first)
