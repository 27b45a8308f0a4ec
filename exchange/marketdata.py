"""Published price signals, read from trades and resting orders: OHLCV candles,
locational prices and the daily index per profile. All use site prices.

Candles are computed in SQL per request for now (one aggregate query per page plus
one for the open and close prices); the index trims outliers beyond 3 MAD.
"""

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncDay, TruncHour, TruncMinute
from django.utils import timezone

from exchange.models import Instrument, Order, Trade
from exchange.selectors import resting_orders
from market.models import Region, Surcharge, WorkloadProfile

SHANGHAI = ZoneInfo("Asia/Shanghai")
INTERVALS = {
    "1m": (TruncMinute, timedelta(minutes=1)),
    "1h": (TruncHour, timedelta(hours=1)),
    "1d": (TruncDay, timedelta(days=1)),
}
PRICE4 = Decimal("0.0001")
MAD_LIMIT = 3


def candle_list(
    *,
    instrument: Instrument,
    interval: str,
    start: datetime | None = None,
    end: datetime | None = None,
    before: datetime | None = None,
    limit: int = 100,
) -> tuple[list[dict], datetime | None]:
    """OHLCV candles newest first, with trades in [start, end) and buckets starting
    before `before`; at most `limit`. Returns the candles and the `before` of the
    next (older) page, or None when this is the last."""
    trunc, width = INTERVALS[interval]
    trades = Trade.objects.filter(instrument=instrument)
    if start is not None:
        trades = trades.filter(executed_at__gte=start)
    if end is not None:
        trades = trades.filter(executed_at__lt=end)
    if before is not None:
        trades = trades.filter(executed_at__lt=before)
    buckets = list(
        trades.annotate(bucket=trunc("executed_at", tzinfo=SHANGHAI))
        .values("bucket")
        .annotate(
            high=Max("price"),
            low=Min("price"),
            volume=Sum("quantity"),
            trades=Count("id"),
            first=Min("sequence"),
            last=Max("sequence"),
        )
        .order_by("-bucket")[: limit + 1]
    )
    more = len(buckets) > limit
    buckets = buckets[:limit]
    prices = dict(
        Trade.objects.filter(
            instrument=instrument,
            sequence__in=[b["first"] for b in buckets] + [b["last"] for b in buckets],
        ).values_list("sequence", "price")
    )
    candles = [
        {
            "start": b["bucket"],
            "end": b["bucket"] + width,
            "open": prices[b["first"]],
            "high": b["high"],
            "low": b["low"],
            "close": prices[b["last"]],
            "volume": b["volume"],
            "trades": b["trades"],
        }
        for b in buckets
    ]
    return candles, (candles[-1]["start"] if more else None)


def _best_asks(instrument: Instrument, stack: str | None) -> dict[int, Decimal]:
    """The least resting ask per sell region (site price)."""
    asks = resting_orders(instrument, Order.Side.SELL)
    if stack is not None:
        asks = asks.filter(stack__code=stack)
    return dict(
        asks.values("region_id")
        .annotate(best=Min("price"))
        .values_list("region_id", "best")
    )


def locational_prices(*, instrument: Instrument, stack: str | None = None) -> list:
    """Per region, the best all-in price a buyer there would pay now: the least
    ask + s(a, region) over the resting sells, ignoring buyer constraints; the best
    ask in the region itself; and the spread local - locational (what buying from
    elsewhere saves, null when either is missing)."""
    best = _best_asks(instrument, stack)
    cheapest: dict[int, tuple[Decimal, int, Decimal]] = {}
    rows = Surcharge.objects.filter(
        table_id=instrument.surcharge_table_id, sell_region_id__in=list(best)
    ).values_list("sell_region_id", "buy_region_id", "surcharge")
    for sell, buy, surcharge in rows:
        candidate = (best[sell] + surcharge, sell, surcharge)
        if buy not in cheapest or candidate[:1] < cheapest[buy][:1]:
            cheapest[buy] = candidate
    codes = dict(Region.objects.values_list("pk", "code"))
    out = []
    for region_id, code in sorted(codes.items(), key=lambda kv: kv[1]):
        price, source, surcharge = cheapest.get(region_id, (None, None, None))
        local = best.get(region_id)
        out.append(
            {
                "region": code,
                "price": price,
                "source_region": codes.get(source),
                "surcharge": surcharge,
                "local_price": local,
                "spread": None if price is None or local is None else local - price,
            }
        )
    return out


def _trimmed(prices_qty: list[tuple[Decimal, Decimal]]) -> list[tuple]:
    """Drop trades whose price lies beyond 3 MAD of the median (none when MAD is 0:
    most trades agree, and there is no scale to judge the rest by)."""
    median = statistics.median(p for p, _q in prices_qty)
    mad = statistics.median(abs(p - median) for p, _q in prices_qty)
    if mad == 0:
        return prices_qty
    return [(p, q) for p, q in prices_qty if abs(p - median) <= MAD_LIMIT * mad]


def index_series(
    *, profile: WorkloadProfile, days: int, now: datetime | None = None
) -> list[dict]:
    """The daily index of a profile over the last `days` Shanghai days, newest
    first: the volume-weighted average site price of the day's trades in all its
    instruments, outliers beyond 3 MAD trimmed. Days without trades are left out."""
    now = timezone.localtime(now or timezone.now(), SHANGHAI)
    first_day = now.date() - timedelta(days=days - 1)
    since = datetime.combine(first_day, datetime.min.time(), SHANGHAI)
    by_day: dict = defaultdict(list)
    rows = Trade.objects.filter(
        instrument__profile=profile, executed_at__gte=since
    ).values_list("executed_at", "price", "quantity")
    for executed_at, price, quantity in rows.iterator():
        by_day[timezone.localtime(executed_at, SHANGHAI).date()].append(
            (price, quantity)
        )
    out = []
    for day in sorted(by_day, reverse=True):
        kept = _trimmed(by_day[day])
        volume = sum((q for _p, q in kept), Decimal(0))
        value = sum((p * q for p, q in kept), Decimal(0))
        out.append(
            {
                "date": day,
                "index": (value / volume).quantize(PRICE4),
                "volume": volume,
                "trades": len(by_day[day]),
                "trimmed": len(by_day[day]) - len(kept),
            }
        )
    return out
