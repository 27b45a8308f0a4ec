"""The daily index of a workload profile, in the spirit of Silicon Data's H100 rental
index: one price per Shanghai day, the volume-weighted average site price of the day's
trades across the profile's listed products (days and blocks; operators' specials,
which are tests and drills, never count), after trimming outliers.

Outliers: a trade is trimmed when its price lies further from the day's median than
the larger of 3 median absolute deviations (MAD) and 5% of the median. The floor
keeps the rule stable when most trades share one price: a MAD of zero no longer
means "trim nothing", and a MAD that turns slightly positive no longer suddenly
trims every trade a few cents away.

A beat task publishes each finished day (an idempotent upsert); the current day, and
any finished day not published yet, are computed on read and marked provisional.
Beside it, `chain_series` is a chain-linked index with a fixed mix (see there).
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from exchange.marketdata.bars import SHANGHAI, VWAP_PLACES
from exchange.models import IndexValue, Instrument, Trade
from market.models import WorkloadProfile

MAD_LIMIT = 3
FLOOR_PCT = 5  # the trimming band is never narrower than this share of the median
STALE_DAYS = 3
CHAIN_DAYS = 90
CHAIN_BASE = Decimal(100)


@dataclass(frozen=True, slots=True)
class IndexDay:
    date: date
    index: Decimal
    volume: Decimal  # of the trades kept
    trades: int  # all the day's trades
    trimmed: int
    provisional: bool

    @property
    def kept(self) -> int:
        """The trades the index is made of (`volume` is theirs)."""
        return self.trades - self.trimmed


def band_half_width(prices: list[Decimal]) -> tuple[Decimal, Decimal]:
    """(median, half-width of the band kept around it)."""
    median = statistics.median(prices)
    mad = statistics.median(abs(p - median) for p in prices)
    return median, max(MAD_LIMIT * mad, median * FLOOR_PCT / 100)


def trimmed(prices_qty: list[tuple]) -> list[tuple]:
    """The (price, quantity, ...) rows within the band around the day's median."""
    median, half = band_half_width([row[0] for row in prices_qty])
    return [row for row in prices_qty if abs(row[0] - median) <= half]


def index_of(day: date, prices_qty: list, *, provisional: bool) -> IndexDay:
    kept = trimmed(prices_qty)
    volume = sum((row[1] for row in kept), Decimal("0.0"))
    value = sum((row[0] * row[1] for row in kept), Decimal(0))
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
    rows = _listed_trades(profile, first, last).values_list(
        "executed_at", "price", "quantity"
    )
    for executed_at, price, quantity in rows.iterator():
        by_day[executed_at.astimezone(SHANGHAI).date()].append((price, quantity))
    return by_day


def _listed_trades(profile: WorkloadProfile, first: date, last: date):
    return Trade.objects.filter(
        instrument__profile=profile,
        instrument__product__in=Instrument.LISTED_PRODUCTS,
        executed_at__gte=_midnight(first),
        executed_at__lt=_midnight(last + timedelta(days=1)),
    )


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


# --- the chain-linked index --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainDay:
    date: date
    value: Decimal  # CHAIN_BASE on the first day of the series
    cells: int  # (chip, product) cells that traded that day
    carried: int  # cells priced at their last trade in the link (staleness rule)


def chain_link(
    weights: dict, base: dict, today: dict, last_seen: dict, day: date
) -> tuple[Decimal | None, int]:
    """The link from the previous traded day to `day`: its cells' quantities
    (`weights`) and prices (`base`) held fixed, each priced today at today's VWAP,
    else at its last price if that is at most STALE_DAYS old, else left out.
    (ratio or None when no cell is priced, cells carried)."""
    num = den = Decimal(0)
    carried = 0
    for cell, quantity in weights.items():
        if cell in today:
            price = today[cell][0]
        elif (day - last_seen[cell][1]).days <= STALE_DAYS:
            price, carried = last_seen[cell][0], carried + 1
        else:
            continue
        num += quantity * price
        den += quantity * base[cell]
    return (num / den if den else None), carried


def chained(days: dict[date, dict]) -> list[ChainDay]:
    """The chain over days of {cell: (VWAP, volume)}, oldest first."""
    out: list[ChainDay] = []
    level = CHAIN_BASE
    weights: dict = {}
    base: dict = {}
    last_seen: dict = {}
    for day in sorted(days):
        today = days[day]
        ratio, carried = chain_link(weights, base, today, last_seen, day)
        if ratio is not None:
            level *= ratio
        out.append(ChainDay(day, level.quantize(VWAP_PLACES), len(today), carried))
        weights = {cell: volume for cell, (_p, volume) in today.items()}
        base = {cell: price for cell, (price, _v) in today.items()}
        last_seen.update({cell: (price, day) for cell, (price, _v) in today.items()})
    return out


def chain_series(
    *, profile: WorkloadProfile, days: int = CHAIN_DAYS, now: datetime | None = None
) -> list[ChainDay]:
    """The chain-linked index over the last `days` Shanghai days, oldest first:
    each day's trades trimmed as for the daily index, then a VWAP per cell (the
    seller's chip and the product: the day, or one block of hours)."""
    today = timezone.localtime(now or timezone.now(), SHANGHAI).date()
    rows = _listed_trades(profile, today - timedelta(days=days - 1), today)
    by_day: dict[date, list] = defaultdict(list)
    for executed_at, price, quantity, chip, block in rows.values_list(
        "executed_at",
        "price",
        "quantity",
        "sell_order__cluster__chip_id",
        "instrument__block",
    ).iterator():
        by_day[executed_at.astimezone(SHANGHAI).date()].append(
            (price, quantity, (chip, block or "day"))
        )
    cells: dict[date, dict] = {}
    for day, rows_of_day in by_day.items():
        sums: dict = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for price, quantity, cell in trimmed(rows_of_day):
            sums[cell][0] += price * quantity
            sums[cell][1] += quantity
        cells[day] = {c: (v / q, q) for c, (v, q) in sums.items()}
    return chained(cells)
