"""Reads of the catalogue: current tables, factors, surcharges, capacity, and the
lists the public catalogue pages show (each one query, related rows joined)."""

import logging
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from core import caches
from market.exceptions import NoConversionFactor, NoPublishedTable
from market.models import (
    ChipModel,
    Cluster,
    ConversionFactor,
    ConversionTable,
    NetworkLink,
    Region,
    RegionSuspension,
    SoftwareStack,
    Surcharge,
    SurchargeTable,
    WorkloadProfile,
)

log = logging.getLogger(__name__)


def conversion_table_current(*, at: datetime | None = None) -> ConversionTable:
    """The newest published table in effect at `at` (now by default)."""
    table = (
        ConversionTable.objects.filter(effective_at__lte=at or timezone.now())
        .order_by("-version")
        .first()
    )
    if table is None:
        raise NoPublishedTable("No conversion table has been published yet.")
    return table


def conversion_factor_get(
    *, table: ConversionTable, chip: ChipModel, profile: WorkloadProfile
) -> ConversionFactor:
    factor = ConversionFactor.objects.filter(
        table=table, chip=chip, profile=profile
    ).first()
    if factor is None:
        raise NoConversionFactor(
            f"{chip.code} has no {profile.code} factor in conversion table "
            f"v{table.version} (a metric the profile needs is unpublished)."
        )
    return factor


@caches.memoize(maxsize=8192)
def table_factor(table_id: int, profile_id: int, chip_id: int) -> Decimal | None:
    """A published factor, None where the chip has none (tables are immutable, so
    each process may keep them)."""
    return (
        ConversionFactor.objects.filter(
            table_id=table_id, profile_id=profile_id, chip_id=chip_id
        )
        .values_list("factor", flat=True)
        .first()
    )


@caches.memoize(maxsize=8192)
def cluster_chip_id(cluster_id: int) -> int:
    """A cluster's chip never changes once it exists (orders refer to it)."""
    return Cluster.objects.values_list("chip_id", flat=True).get(pk=cluster_id)


def surcharge_table_current(
    *, profile: WorkloadProfile, at: datetime | None = None
) -> SurchargeTable:
    table = (
        SurchargeTable.objects.filter(
            profile=profile, effective_at__lte=at or timezone.now()
        )
        .order_by("-version")
        .first()
    )
    if table is None:
        raise NoPublishedTable(
            f"No surcharge table has been published for {profile.code}."
        )
    return table


def surcharges_list(*, table: SurchargeTable):
    return Surcharge.objects.filter(table=table).select_related(
        "sell_region", "buy_region"
    )


def region_list():
    """Regions with their hub, each annotated `suspended` and `suspended_reason`
    (None unless suspended), in code order."""
    current = RegionSuspension.objects.filter(
        region=OuterRef("pk"), ended_at__isnull=True
    )
    return (
        Region.objects.select_related("hub")
        .annotate(
            suspended=Exists(current),
            suspended_reason=Subquery(current.values("reason")[:1]),
        )
        .order_by("code")
    )


def stack_list():
    return SoftwareStack.objects.order_by("code")


def profile_list():
    return WorkloadProfile.objects.select_related("reference_chip").order_by("code")


def chip_list(*, stack_code: str | None = None, kind: str | None = None):
    chips = ChipModel.objects.select_related("stack").order_by("vendor", "model")
    if stack_code:
        chips = chips.filter(stack__code=stack_code)
    if kind:
        chips = chips.filter(kind=kind)
    return chips


def conversion_factors_map(
    *, table: ConversionTable
) -> dict[tuple[int, int], ConversionFactor]:
    """Every factor of `table` by (chip id, profile id), in one query."""
    return {
        (f.chip_id, f.profile_id): f
        for f in ConversionFactor.objects.filter(table=table)
    }


def surcharges_into_region(
    *, table: SurchargeTable, buy_region: Region
) -> dict[int, Surcharge]:
    """s(a, buy_region) of `table` by sell region id; a missing key means no link."""
    return {
        s.sell_region_id: s
        for s in Surcharge.objects.filter(table=table, buy_region=buy_region)
    }


def network_links_from(*, region: Region) -> dict[int, NetworkLink]:
    """Links leaving `region` by destination region id."""
    return {
        link.to_region_id: link
        for link in NetworkLink.objects.filter(from_region=region)
    }


def network_links_between(*, from_role: str, to_role: str):
    """Links from regions of one role to regions of another (for the regions map)."""
    return NetworkLink.objects.filter(
        from_region__role=from_role, to_region__role=to_role
    ).order_by("from_region_id", "to_region_id")


def regions_suspended() -> dict[str, RegionSuspension]:
    """The regions suspended now, by code, each with its open suspension."""
    return {
        s.region.code: s
        for s in RegionSuspension.objects.filter(ended_at__isnull=True).select_related(
            "region"
        )
    }


def suspensions_overlapping(
    *, region_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) during which the region was suspended, merged
    and in order (a suspension still open lasts to `end`)."""
    rows = RegionSuspension.objects.filter(
        region_id=region_id, started_at__lt=end
    ).exclude(ended_at__lte=start)
    spans = sorted(
        (max(s.started_at, start), min(s.ended_at or end, end)) for s in rows
    )
    merged: list[tuple[datetime, datetime]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        elif a < b:
            merged.append((a, b))
    return merged


SUSPENDED_KEY = "yiwang:regions-suspended"
# Suspending or resuming drops the key at once (`regions_suspended_forget`); the
# TTL bounds what a process that missed it sees.
SUSPENDED_SECONDS = 5


def regions_suspended_banner() -> list[SimpleNamespace]:
    """The regions suspended now, for the banner on every page: code, names and
    reason, from the shared cache (a cache that is down costs a read)."""
    try:
        rows = cache.get(SUSPENDED_KEY)
    except Exception:
        log.warning("suspended regions: cache unavailable", exc_info=True)
        rows = None
    if rows is None:
        rows = [
            {
                "code": code,
                "name_en": s.region.name_en,
                "name_zh": s.region.name_zh,
                "reason": s.reason,
            }
            for code, s in sorted(regions_suspended().items())
        ]
        try:
            cache.set(SUSPENDED_KEY, rows, SUSPENDED_SECONDS)
        except Exception:
            log.warning("suspended regions: cache unavailable", exc_info=True)
    return [SimpleNamespace(**row) for row in rows]


def regions_suspended_forget() -> None:
    """The suspensions changed: the next banner reads them again."""
    try:
        cache.delete(SUSPENDED_KEY)
    except Exception:
        log.warning("suspended regions: cache unavailable", exc_info=True)
