"""The daily index of a workload profile, in the spirit of Silicon Data's H100 rental
index: one price per Shanghai day, the volume-weighted average site price of the day's
trades across all the profile's instruments, after trimming trades priced more than 3
median absolute deviations from the day's median (when the MAD is 0, most trades agree
and there is no scale to judge the rest by, so none is trimmed).

A beat task publishes each finished day (an idempotent upsert); the current day, and
any finished day not published yet, are computed on read and marked provisional.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from exchange.marketdata.bars import SHANGHAI, VWAP_PLACES
from exchange.models import IndexValue, Trade
from market.models import WorkloadProfile

MAD_LIMIT = 3


@dataclass(frozen=True, slots=True)
class IndexDay:
    date: date
    index: Decimal
    volume: Decimal
    trades: int
    trimmed: int
    provisional: bool


def trimmed(prices_qty: list[tuple[Decimal, Decimal]]) -> list[tuple]:
    """The (price, quantity) pairs within 3 MAD of the median price."""
    median = statistics.median(p for p, _q in prices_qty)
    mad = statistics.median(abs(p - median) for p, _q in prices_qty)
    if mad == 0:
        return prices_qty
    return [(p, q) for p, q in prices_qty if abs(p - median) <= MAD_LIMIT * mad]


def index_of(day: date, prices_qty: list, *, provisional: bool) -> IndexDay:
    kept = trimmed(prices_qty)
    volume = sum((q for _p, q in kept), Decimal("0.0"))
    value = sum((p * q for p, q in kept), Decimal(0))
    return IndexDay(
        date=day,
        index=(value / volume).quantize(VWAP_PLACES),
        volume=volume,
        trades=len(prices_qty),
        trimmed=len(prices_qty) - len(kept),
        provisional=provisional,
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI)


def _trades_by_day(profile: WorkloadProfile, first: date, last: date) -> dict:
    """(price, quantity) of the profile's trades per Shanghai day in [first, last]."""
    by_day: dict[date, list] = defaultdict(list)
    rows = Trade.objects.filter(
        instrument__profile=profile,
        executed_at__gte=_midnight(first),
        executed_at__lt=_midnight(last + timedelta(days=1)),
    ).values_list("executed_at", "price", "quantity")
    for executed_at, price, quantity in rows.iterator():
        by_day[executed_at.astimezone(SHANGHAI).date()].append((price, quantity))
    return by_day


def index_publish(*, day: date) -> list[IndexValue]:
    """Entry point: compute each profile's index for `day` and upsert it (a day
    without trades has no index). Run it again and it rewrites the same values."""
    published = []
    for profile in WorkloadProfile.objects.order_by("code"):
        trades = _trades_by_day(profile, day, day).get(day)
        if not trades:
            continue
        value = index_of(day, trades, provisional=False)
        with transaction.atomic(durable=True):
            row, _created = IndexValue.objects.update_or_create(
                profile=profile,
                date=day,
                defaults={
                    "index": value.index,
                    "volume": value.volume,
                    "trades": value.trades,
                    "trimmed": value.trimmed,
                },
            )
        published.append(row)
    return published


def index_publish_recent(*, days: int = 3, now: datetime | None = None) -> int:
    """Entry point of the beat task: publish the last `days` finished Shanghai days,
    so a missed night is caught up by the next run."""
    today = timezone.localtime(now or timezone.now(), SHANGHAI).date()
    return sum(
        len(index_publish(day=today - timedelta(days=n))) for n in range(days, 0, -1)
    )


def index_series(
    *, profile: WorkloadProfile, days: int, now: datetime | None = None
) -> list[IndexDay]:
    """The index over the last `days` Shanghai days, newest first: published days,
    then the days after the last published one (today included) computed now and
    marked provisional. Days without trades are left out."""
    today = timezone.localtime(now or timezone.now(), SHANGHAI).date()
    first = today - timedelta(days=days - 1)
    stored = IndexValue.objects.filter(profile=profile, date__gte=first).order_by(
        "-date"
    )
    out = [
        IndexDay(v.date, v.index, v.volume, v.trades, v.trimmed, provisional=False)
        for v in stored
    ]
    since = out[0].date + timedelta(days=1) if out else first
    fresh = _trades_by_day(profile, since, today)
    provisional = [
        index_of(day, fresh[day], provisional=True)
        for day in sorted(fresh, reverse=True)
    ]
    return provisional + out
