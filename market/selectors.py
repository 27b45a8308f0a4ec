"""Reads of the catalogue: current tables, factors, surcharges, capacity."""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from market.conversion import scu_h
from market.exceptions import NoConversionFactor, NoPublishedTable
from market.models import (
    ChipModel,
    Cluster,
    ConversionFactor,
    ConversionTable,
    Surcharge,
    SurchargeTable,
    WorkloadProfile,
)


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


def cluster_capacity_scu_h(
    *,
    cluster: Cluster,
    profile: WorkloadProfile,
    table: ConversionTable,
    hours: Decimal,
) -> Decimal:
    """count x hours x factor. Raises NoConversionFactor for a chip without one."""
    factor = conversion_factor_get(table=table, chip=cluster.chip, profile=profile)
    return scu_h(factor=factor.factor, count=cluster.count, hours=hours)


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
