"""Time-of-use arithmetic: a region's 24 hourly multipliers on its (flat) electricity
price, and their time-weighted mean over a delivery window on the Shanghai clock,
which is what electricity costs per block or per day use."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from market.models import TariffPeriod

SHANGHAI = ZoneInfo("Asia/Shanghai")
FLAT = Decimal(1)
HOUR = timedelta(hours=1)
Hourly = tuple[Decimal, ...]


def hourly(periods: Iterable[tuple[int, int, Decimal]]) -> Hourly:
    """24 multipliers from (start hour, end hour, multiplier); uncovered hours flat."""
    hours = [FLAT] * 24
    for start, end, multiplier in periods:
        for hour in range(start, end):
            hours[hour] = multiplier
    return tuple(hours)


def hourly_by_region() -> dict[int, Hourly]:
    """Every region's hourly multipliers that has a schedule (one query)."""
    rows: dict[int, list] = {}
    for region_id, start, end, multiplier in TariffPeriod.objects.values_list(
        "region_id", "start_hour", "end_hour", "multiplier"
    ):
        rows.setdefault(region_id, []).append((start, end, multiplier))
    return {region_id: hourly(periods) for region_id, periods in rows.items()}


def window_multiplier(hours: Hourly | None, start: datetime, end: datetime) -> Decimal:
    """The time-weighted mean multiplier over [start, end) (flat without a
    schedule), to 6 places."""
    if hours is None or end <= start:
        return FLAT
    local = start.astimezone(SHANGHAI)
    bucket = local.replace(minute=0, second=0, microsecond=0)
    weighted, total = Decimal(0), Decimal(0)
    while bucket < end:
        overlap = min(bucket + HOUR, end) - max(bucket, start)
        seconds = Decimal(int(overlap.total_seconds()))
        weighted += hours[bucket.astimezone(SHANGHAI).hour] * seconds
        total += seconds
        bucket += HOUR
    return (weighted / total).quantize(Decimal("0.000001")) if total else FLAT
