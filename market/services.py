"""Writes to the catalogue: deriving links, publishing conversion and surcharge tables,
creating clusters. Each runs in the caller's transaction (entry points open it)."""

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from market import geo
from market.conversion import ProfileWeights, compute_factors
from market.exceptions import MarketError
from market.models import (
    CHIP_METRICS,
    BenchmarkFactor,
    ChipModel,
    Cluster,
    ConversionFactor,
    ConversionTable,
    NetworkLink,
    Participant,
    Region,
    Surcharge,
    SurchargeTable,
    WorkloadProfile,
)

SURCHARGE_TICK = Decimal("0.01")


def links_derive(*, overwrite: bool = False) -> tuple[int, int]:
    """Create a link for every ordered pair of regions from their coordinates.

    Existing links an operator edited are kept unless `overwrite`; derived ones are
    refreshed. Returns (created, updated).
    """
    regions = list(Region.objects.all())
    existing = {
        (k.from_region_id, k.to_region_id): k for k in NetworkLink.objects.all()
    }
    created = updated = 0
    for a in regions:
        for b in regions:
            if a.pk == b.pk:
                continue
            km = geo.great_circle_km(a.lat, a.lon, b.lat, b.lon)
            values = {
                "latency_ms": geo.latency_ms(km),
                "transfer_cny_per_gb": geo.transfer_cny_per_gb(
                    km, same_hub=a.hub_id == b.hub_id
                ),
            }
            link = existing.get((a.pk, b.pk))
            if link is None:
                NetworkLink.objects.create(
                    from_region=a, to_region=b, derived=True, **values
                )
                created += 1
            elif link.derived or overwrite:
                NetworkLink.objects.filter(pk=link.pk).update(derived=True, **values)
                updated += 1
    return created, updated


def _next_version(model, **filters) -> int:
    return (model.objects.filter(**filters).aggregate(v=Max("version"))["v"] or 0) + 1


def _profile_weights(profile: WorkloadProfile) -> ProfileWeights:
    return ProfileWeights(
        primary_metrics=list(profile.primary_metrics),
        primary_weight=profile.primary_weight,
        secondary_weights={
            k: Decimal(str(v)) for k, v in profile.secondary_weights.items()
        },
    )


def _chip_metrics(chip: ChipModel) -> dict[str, Decimal | None]:
    return {metric: getattr(chip, metric) for metric in CHIP_METRICS}


@transaction.atomic
def conversion_table_publish(
    *,
    effective_at=None,
    published_by: AbstractBaseUser | None = None,
    notes: str = "",
) -> ConversionTable:
    """Compute every chip's factor for every profile and publish them as a new version.

    Measured benchmark factors take precedence over computed ones. A chip of another
    kind than the profile's (a GPU for `cpu`), or without its primary metric, gets no
    factor. Concurrent publishers serialize on the version's unique constraint.
    """
    table = ConversionTable.objects.create(
        version=_next_version(ConversionTable),
        effective_at=effective_at or timezone.now(),
        published_by=published_by,
        notes=notes,
    )
    measured = {(b.chip_id, b.profile_id): b for b in BenchmarkFactor.objects.all()}
    rows = []
    for profile in WorkloadProfile.objects.select_related("reference_chip"):
        chips = list(ChipModel.objects.filter(kind=profile.chip_kind))
        computed = compute_factors(
            [_chip_metrics(c) for c in chips],
            _chip_metrics(profile.reference_chip),
            _profile_weights(profile),
        )
        for chip, result in zip(chips, computed, strict=True):
            bench = measured.pop((chip.pk, profile.pk), None)
            if bench is not None:
                rows.append(
                    ConversionFactor(
                        table=table,
                        chip=chip,
                        profile=profile,
                        factor=bench.factor,
                        source=ConversionFactor.Source.MEASURED,
                    )
                )
            elif result is not None:
                rows.append(
                    ConversionFactor(
                        table=table,
                        chip=chip,
                        profile=profile,
                        factor=result.factor,
                        estimated=result.estimated,
                        missing_metrics=",".join(result.missing_metrics),
                        source=ConversionFactor.Source.COMPUTED,
                    )
                )
    ConversionFactor.objects.bulk_create(rows)
    return table


def surcharge_round(amount: Decimal) -> Decimal:
    return amount.quantize(SURCHARGE_TICK, ROUND_HALF_UP)


@transaction.atomic
def surcharge_tables_publish(
    *, effective_at=None, published_by: AbstractBaseUser | None = None
) -> list[SurchargeTable]:
    """Publish a new surcharge table per profile from the current links.

    s(a, b) = transfer price x the profile's data intensity, rounded half-up to the
    tick; s(a, a) = 0; a pair with no link gets no row and cannot trade.
    """
    effective_at = effective_at or timezone.now()
    regions = list(Region.objects.all())
    links = list(NetworkLink.objects.all())
    tables = []
    for profile in WorkloadProfile.objects.all():
        table = SurchargeTable.objects.create(
            profile=profile,
            version=_next_version(SurchargeTable, profile=profile),
            effective_at=effective_at,
            published_by=published_by,
        )
        rows = [
            Surcharge(
                table=table,
                sell_region=r,
                buy_region=r,
                surcharge=Decimal("0.00"),
                latency_ms=geo.INTRA_REGION_LATENCY_MS,
            )
            for r in regions
        ]
        rows += [
            Surcharge(
                table=table,
                sell_region_id=link.from_region_id,
                buy_region_id=link.to_region_id,
                surcharge=surcharge_round(
                    link.transfer_cny_per_gb * profile.data_intensity_gb_per_scu_h
                ),
                latency_ms=link.latency_ms,
            )
            for link in links
        ]
        Surcharge.objects.bulk_create(rows)
        tables.append(table)
    return tables


def cluster_create(
    *,
    participant: Participant,
    name: str,
    region: Region,
    chip: ChipModel,
    count: int,
    confidential: bool = False,
    certifications: str = "",
) -> Cluster:
    """Register a provider's capacity, with what it declares (a TEE,
    certifications). Only sellers have clusters; it sells once an operator has
    verified it."""
    if not participant.is_seller:
        raise MarketError("Only a seller can register a cluster.")
    cluster = Cluster(
        participant=participant,
        name=name,
        region=region,
        chip=chip,
        count=count,
        confidential=confidential,
        certifications=certifications,
        declared_at=timezone.now(),
    )
    cluster.full_clean()
    cluster.save()
    return cluster
