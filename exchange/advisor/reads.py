"""What the advisor reads: the profile's listed instruments whose window fits the
job, their resting asks by region, the surcharges and latencies into the buyer's
origin from each instrument's frozen table, and per ask what its chip and region
make of energy, electricity and carbon. A constant number of queries.

A remote region is reachable only if a link leads from it to the origin and the
job's data can get there before the window opens: the data leaves the origin at the
job's earliest start (or now, if later) at EXCHANGE_ADVISOR_TRANSFER_GBIT_S.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q

from exchange.advisor.plans import Ask, Pair
from exchange.models import Instrument, Order
from market import tariffs
from market.models import (
    ChipModel,
    ConversionFactor,
    Region,
    Surcharge,
    WorkloadProfile,
)

WATTS_PER_KW = Decimal(1000)
BITS_PER_BYTE = 8


@dataclass(frozen=True, slots=True)
class Request:
    profile: WorkloadProfile
    origin: Region
    earliest: datetime
    deadline: datetime | None
    data_gb: Decimal
    now: datetime


def transfer_time(data_gb: Decimal) -> timedelta:
    """How long the job's data takes to reach a remote region."""
    gbit_s = Decimal(settings.EXCHANGE_ADVISOR_TRANSFER_GBIT_S)
    return timedelta(seconds=float(data_gb * BITS_PER_BYTE / gbit_s))


def data_arrival(request: Request) -> datetime:
    return max(request.now, request.earliest) + transfer_time(request.data_gb)


def instruments_for(request: Request) -> list[Instrument]:
    """The profile's listed products still open whose window fits the job's."""
    found = Instrument.objects.filter(
        profile=request.profile,
        product__in=Instrument.LISTED_PRODUCTS,
        state=Instrument.State.OPEN,
        gate_closure_at__gt=request.now,
        delivery_start__gte=request.earliest,
    )
    if request.deadline is not None:
        found = found.filter(delivery_end__lte=request.deadline)
    return list(found.order_by("delivery_start", "-delivery_end", "symbol"))


def _asks(instruments: list[Instrument], now: datetime) -> dict[tuple, list]:
    rows = (
        Order.objects.filter(
            instrument__in=instruments,
            side=Order.Side.SELL,
            status__in=Order.OPEN_STATUSES,
            remaining_quantity__gt=0,
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list(
            "instrument_id",
            "region_id",
            "price",
            "remaining_quantity",
            "sequence",
            "cluster__chip_id",
        )
    )
    out: dict[tuple, list] = defaultdict(list)
    for instrument_id, region_id, price, remaining, sequence, chip in rows:
        out[instrument_id, region_id].append((price, remaining, sequence, chip))
    return out


def _kwh_per_scu_h(instruments, profile, chips) -> dict[tuple, Decimal]:
    """kWh at the chip per SCU-h (before PUE), by (conversion table, chip)."""
    tdp = dict(ChipModel.objects.filter(pk__in=chips).values_list("pk", "tdp_w"))
    factors = ConversionFactor.objects.filter(
        table_id__in={i.conversion_table_id for i in instruments},
        profile=profile,
        chip_id__in=chips,
    ).values_list("table_id", "chip_id", "factor")
    return {
        (table, chip): Decimal(tdp[chip]) / WATTS_PER_KW / factor
        for table, chip, factor in factors
        if tdp.get(chip)
    }


def pairs_for(request: Request) -> list[Pair]:
    """Every (instrument, region) with resting asks the job could buy."""
    instruments = instruments_for(request)
    asks = _asks(instruments, request.now)
    into = {
        (table, sell): (surcharge, latency)
        for table, sell, surcharge, latency in Surcharge.objects.filter(
            table_id__in={i.surcharge_table_id for i in instruments},
            buy_region=request.origin,
        ).values_list("table_id", "sell_region_id", "surcharge", "latency_ms")
    }
    chips = {row[3] for rows in asks.values() for row in rows}
    site = _Site(
        kwh=_kwh_per_scu_h(instruments, request.profile, chips),
        regions=Region.objects.in_bulk(),
        hourly=tariffs.hourly_by_region(),
    )
    arrival = data_arrival(request)
    by_id = {i.pk: i for i in instruments}
    out = []
    for (instrument_id, region_id), rows in asks.items():
        inst = by_id[instrument_id]
        link = into.get((inst.surcharge_table_id, region_id))
        home = region_id == request.origin.pk
        if link is None or (not home and inst.delivery_start < arrival):
            continue
        out.append(site.pair(inst, site.regions[region_id], link, home, rows))
    return sorted(out, key=lambda p: (p.start, -p.end.timestamp(), p.symbol, p.region))


@dataclass(frozen=True, slots=True)
class _Site:
    """What turns a region's asks into a Pair: energy per SCU-h by (conversion
    table, chip), the regions, their time-of-use multipliers."""

    kwh: dict[tuple, Decimal]
    regions: dict[int, Region]
    hourly: dict[int, tariffs.Hourly]

    def pair(self, inst, region, link, home, rows) -> Pair:
        multiplier = tariffs.window_multiplier(
            self.hourly.get(region.pk), inst.delivery_start, inst.delivery_end
        )
        asks = []
        for price, left, sequence, chip in sorted(rows, key=lambda r: (r[0], r[2])):
            kwh = self.kwh.get((inst.conversion_table_id, chip))
            energy = None if kwh is None else kwh * region.pue
            asks.append(Ask(price, left, sequence, energy))
        return Pair(
            region=region.code,
            symbol=inst.symbol,
            start=inst.delivery_start,
            end=inst.delivery_end,
            surcharge=link[0],
            latency_ms=link[1],
            home=home,
            electricity_cny_per_kwh=region.electricity_price_cny_per_kwh * multiplier,
            carbon_kg_per_kwh=region.carbon_intensity_kg_per_kwh,
            asks=tuple(asks),
        )
