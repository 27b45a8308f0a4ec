"""What the account pages show: a provider's clusters, and the SCU-h a cluster being
added would deliver per workload profile under the current conversion table."""

from dataclasses import dataclass
from decimal import Decimal

from market import selectors
from market.conversion import scu_h
from market.exceptions import NoPublishedTable
from market.models import (
    ApiKey,
    ChipModel,
    ConversionFactor,
    Participant,
    WorkloadProfile,
)
from market.pages import PROFILE_ORDER

DEFAULT_PREVIEW_HOURS = 24


@dataclass(frozen=True, slots=True)
class ProfileCapacity:
    profile: WorkloadProfile
    factor: ConversionFactor | None
    per_hour: Decimal | None
    over_hours: Decimal | None


def _profiles() -> list[WorkloadProfile]:
    rank = {code: i for i, code in enumerate(PROFILE_ORDER)}
    return sorted(
        selectors.profile_list(), key=lambda p: (rank.get(p.code, len(rank)), p.code)
    )


def cluster_preview(*, chip: ChipModel, count: int, hours: int) -> dict:
    """count x hours x factor for every profile (None where the chip has none)."""
    try:
        table = selectors.conversion_table_current()
    except NoPublishedTable:
        return {"table": None, "rows": [], "hours": hours}
    factors = {
        f.profile_id: f for f in ConversionFactor.objects.filter(table=table, chip=chip)
    }
    rows = []
    for profile in _profiles():
        factor = factors.get(profile.pk)
        rows.append(
            ProfileCapacity(
                profile=profile,
                factor=factor,
                per_hour=None
                if factor is None
                else scu_h(factor=factor.factor, count=count, hours=Decimal(1)),
                over_hours=None
                if factor is None
                else scu_h(factor=factor.factor, count=count, hours=Decimal(hours)),
            )
        )
    return {"table": table, "rows": rows, "hours": hours, "chip": chip, "count": count}


def clusters_context(*, participant: Participant) -> dict:
    clusters = list(
        participant.clusters.select_related("region", "chip__stack").order_by("pk")
    )
    return {"clusters": clusters}


def api_keys_context(*, user) -> dict:
    return {"keys": list(ApiKey.objects.filter(user=user).order_by("-created_at"))}
