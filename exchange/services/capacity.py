"""Cluster capacity: a sell commits `qty / (factor x window hours)` chips for its whole
window, and at every instant the chips committed by a cluster's open and filled sells,
across instruments and profiles, stay within its count."""

import functools
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from exchange.exceptions import InsufficientCapacity
from exchange.models import Instrument, Order
from market.exceptions import NoConversionFactor
from market.models import Cluster, ConversionFactor


def factor_for(*, cluster: Cluster, instrument: Instrument) -> Decimal:
    factor = table_factor(
        instrument.conversion_table_id, instrument.profile_id, cluster.chip_id
    )
    if factor is None:
        raise NoConversionFactor(
            f"{cluster.chip.code} has no {instrument.profile.code} conversion factor "
            f"in table v{instrument.conversion_table.version}: it cannot sell "
            f"{instrument.symbol}."
        )
    return factor


@functools.lru_cache(maxsize=8192)
def table_factor(table_id: int, profile_id: int, chip_id: int) -> Decimal | None:
    """A published factor (tables are immutable, so each process may keep them)."""
    return (
        ConversionFactor.objects.filter(
            table_id=table_id, profile_id=profile_id, chip_id=chip_id
        )
        .values_list("factor", flat=True)
        .first()
    )


def peak_commitment(
    *,
    cluster: Cluster,
    start: datetime,
    end: datetime,
    exclude_order: int | None = None,
) -> Decimal:
    """The most chips the cluster's sells commit at any instant of [start, end)."""
    # One row per delivery window, summed in the database: a cluster may have
    # hundreds of resting sells, but only a few windows.
    rows = list(
        Order.objects.filter(
            cluster=cluster,
            committed_chips__gt=0,
            instrument__delivery_start__lt=end,
            instrument__delivery_end__gt=start,
        )
        .exclude(pk=exclude_order)
        .values("instrument__delivery_start", "instrument__delivery_end")
        .annotate(chips=Sum("committed_chips"))
        .values_list("chips", "instrument__delivery_start", "instrument__delivery_end")
        .order_by()
    )
    # The sum of overlapping windows only grows at a window's start, so checking the
    # new window's start and every start inside it finds the peak.
    instants = {start} | {s for _c, s, _e in rows if s > start}
    return max(
        (sum((c for c, s, e in rows if s <= t < e), Decimal(0)) for t in instants),
        default=Decimal(0),
    )


def capacity_check(
    *,
    cluster: Cluster,
    instrument: Instrument,
    chips: Decimal,
    exclude_order: int | None = None,
) -> None:
    """Raise InsufficientCapacity unless `chips` more fit in the cluster for the
    instrument's window. Caller holds the cluster's row lock."""
    used = peak_commitment(
        cluster=cluster,
        start=instrument.delivery_start,
        end=instrument.delivery_end,
        exclude_order=exclude_order,
    )
    if used + chips > cluster.count:
        free = max(cluster.count - used, Decimal(0))
        raise InsufficientCapacity(
            f"Cluster {cluster.name} has {free.normalize()} of {cluster.count} chips "
            f"free in this window; the order needs {chips.normalize()}."
        )
