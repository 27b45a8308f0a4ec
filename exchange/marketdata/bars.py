"""The arithmetic of candles, pure (no Django) so that it can be checked against a
brute-force recomputation: which bucket a trade falls in, and folding trades into bars.

Buckets follow the exchange's clock, Asia/Shanghai: a day bar runs from 00:00 to 24:00
Beijing time. A bar's open is the price of its lowest-sequence trade and its close that
of its highest (sequence, not time, orders trades: two placements may take their clock
readings in one order and the instrument's lock in the other). Trades are folded in
sequence order, so `last_sequence` says exactly which trades a bar holds: every trade
of its bucket up to it, and none after.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
INTERVALS = ("1m", "1h", "1d")
WIDTHS = {
    "1m": timedelta(minutes=1),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
VWAP_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Print:
    """A trade as candles see it: site price and quantity."""

    sequence: int
    executed_at: datetime
    price: Decimal
    quantity: Decimal


@dataclass(slots=True)
class Bar:
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    notional: Decimal  # sum of price x quantity: the VWAP's numerator
    trades: int
    first_sequence: int
    last_sequence: int

    @classmethod
    def first(cls, start: datetime, p: Print) -> "Bar":
        return cls(
            start=start,
            open=p.price,
            high=p.price,
            low=p.price,
            close=p.price,
            volume=p.quantity,
            notional=p.price * p.quantity,
            trades=1,
            first_sequence=p.sequence,
            last_sequence=p.sequence,
        )

    def holds(self, p: Print) -> bool:
        return p.sequence <= self.last_sequence

    def add(self, p: Print) -> None:
        """Extend the bar by a later trade of its bucket."""
        if p.sequence <= self.last_sequence:
            raise ValueError(f"trade {p.sequence} is not after {self.last_sequence}")
        self.high = max(self.high, p.price)
        self.low = min(self.low, p.price)
        self.close = p.price
        self.volume += p.quantity
        self.notional += p.price * p.quantity
        self.trades += 1
        self.last_sequence = p.sequence

    @property
    def vwap(self) -> Decimal | None:
        return vwap(self.notional, self.volume)


def vwap(notional: Decimal, volume: Decimal) -> Decimal | None:
    if not volume:
        return None
    return (notional / volume).quantize(VWAP_PLACES)


def bucket_start(at: datetime, interval: str) -> datetime:
    """The start of the bucket holding instant `at`, on the Shanghai clock."""
    local = at.astimezone(SHANGHAI).replace(second=0, microsecond=0)
    if interval == "1m":
        return local
    if interval == "1h":
        return local.replace(minute=0)
    if interval == "1d":
        return local.replace(hour=0, minute=0)
    raise ValueError(f"unknown interval {interval!r}")


def fold(bars: dict[datetime, Bar], prints: Iterable[Print], interval: str) -> set:
    """Fold `prints` (in sequence order) into `bars`, keyed by bucket start; a trade
    a bar already holds is skipped. Returns the starts of the bars it changed."""
    touched = set()
    for p in prints:
        start = bucket_start(p.executed_at, interval)
        bar = bars.get(start)
        if bar is None:
            bars[start] = Bar.first(start, p)
        elif bar.holds(p):
            continue
        else:
            bar.add(p)
        touched.add(start)
    return touched


def totals(bars: Iterable[Bar]) -> tuple[Decimal, Decimal, int]:
    """Volume, notional and trade count over bars."""
    volume, notional, trades = Decimal(0), Decimal(0), 0
    for bar in bars:
        volume += bar.volume
        notional += bar.notional
        trades += bar.trades
    return volume, notional, trades
