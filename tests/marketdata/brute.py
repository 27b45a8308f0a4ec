"""A brute-force recomputation of candles from trades, written independently of
exchange.marketdata.bars: buckets by epoch arithmetic on the Shanghai offset (UTC+8,
no daylight saving), open and close by sequence."""

from collections import defaultdict
from datetime import UTC, datetime

SHANGHAI_OFFSET_S = 8 * 3600
WIDTH_S = {"1m": 60, "1h": 3600, "1d": 86400}


def bucket(at: datetime, interval: str) -> datetime:
    local = int(at.timestamp()) + SHANGHAI_OFFSET_S
    start = local - local % WIDTH_S[interval] - SHANGHAI_OFFSET_S
    return datetime.fromtimestamp(start, tz=UTC)


def candles(trades, interval: str) -> dict[datetime, dict]:
    """trades: objects with sequence, executed_at, price, quantity."""
    by_bucket = defaultdict(list)
    for t in trades:
        by_bucket[bucket(t.executed_at, interval)].append(t)
    out = {}
    for start, group in by_bucket.items():
        group.sort(key=lambda t: t.sequence)
        out[start] = {
            "open": group[0].price,
            "high": max(t.price for t in group),
            "low": min(t.price for t in group),
            "close": group[-1].price,
            "volume": sum(t.quantity for t in group),
            "notional": sum(t.price * t.quantity for t in group),
            "trades": len(group),
            "first_sequence": group[0].sequence,
            "last_sequence": group[-1].sequence,
        }
    return out


def as_dict(bar) -> dict:
    return {name: getattr(bar, name) for name in FIELDS}


FIELDS = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "notional",
    "trades",
    "first_sequence",
    "last_sequence",
)
