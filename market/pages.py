"""What the public catalogue pages show, built from selectors in a constant number of
queries: the chip catalogue with current factors, the regions map and table, and the
"should I move west?" comparison. Views render these contexts and nothing more."""

from dataclasses import dataclass
from decimal import Decimal

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from market import movewest, regionmap, selectors
from market.display import unverified_set
from market.exceptions import NoPublishedTable
from market.forms import MOVE_WEST_DEFAULTS, ChipFilterForm, MoveWestForm
from market.models import (
    ChipModel,
    ConversionFactor,
    NetworkLink,
    Region,
    Surcharge,
    WorkloadProfile,
)

# The datasheet columns of the chip catalogue: (field, header, unit).
CHIP_FIGURES = (
    ("memory_gb", _("Memory"), "GB"),
    ("memory_bandwidth_gbs", _("Bandwidth"), "GB/s"),
    ("fp64_tflops", "FP64", "TFLOPS"),
    ("fp32_tflops", "FP32", "TFLOPS"),
    ("bf16_tflops", "BF16", "TFLOPS"),
    ("fp16_tflops", "FP16", "TFLOPS"),
    ("int8_tops", "INT8", "TOPS"),
    ("tdp_w", "TDP", "W"),
)
# Profiles in the order DESIGN.md lists them; profiles added later follow by code.
PROFILE_ORDER = ("train", "infer", "hpc", "render", "cpu")
# Until locational prices exist, regions are coloured by role.
ROLE_COLOURS: dict[str, str] = {
    Region.Role.EAST_DEMAND: "#d9480f",
    Region.Role.EAST_SUPPLY: "#1c7ed6",
    Region.Role.WEST_SUPPLY: "#2b8a3e",
}


@dataclass(frozen=True, slots=True)
class Figure:
    value: object
    unverified: bool


@dataclass(frozen=True, slots=True)
class ChipRow:
    chip: ChipModel
    figures: list[Figure]
    factors: list[tuple[WorkloadProfile, ConversionFactor | None]]


@dataclass(frozen=True, slots=True)
class RegionRow:
    region: Region
    unverified: frozenset[str]
    colour: str


@dataclass(frozen=True, slots=True)
class RegionMarker:
    region: Region
    marker: regionmap.Marker


@dataclass(frozen=True, slots=True)
class MapLink:
    link: NetworkLink
    source: Region
    target: Region
    line: regionmap.Segment


@dataclass(frozen=True, slots=True)
class ResultRow:
    region: Region
    estimate: movewest.Estimate
    cheapest: bool


@dataclass(frozen=True, slots=True)
class MoveWestResult:
    origin: Region
    profile: WorkloadProfile
    chip: ChipModel
    factor: ConversionFactor
    surcharge_version: int
    rows: list[ResultRow]
    unreachable: list[Region]
    local: movewest.Estimate | None
    cheapest: ResultRow | None
    saving_cny: Decimal | None
    saving_pct: Decimal | None
    data_gb: Decimal


def _profiles() -> list[WorkloadProfile]:
    rank = {code: i for i, code in enumerate(PROFILE_ORDER)}
    return sorted(
        selectors.profile_list(), key=lambda p: (rank.get(p.code, len(rank)), p.code)
    )


def _current_table():
    try:
        return selectors.conversion_table_current()
    except NoPublishedTable:
        return None


def chip_catalogue_context(params: QueryDict) -> dict:
    stacks = list(selectors.stack_list())
    form = ChipFilterForm(params, stacks=stacks)
    form.is_valid()  # invalid filters show their error and are not applied
    chips = selectors.chip_list(
        stack_code=form.cleaned_data.get("stack"), kind=form.cleaned_data.get("kind")
    )
    profiles = _profiles()
    table = _current_table()
    factors = selectors.conversion_factors_map(table=table) if table else {}
    rows = []
    for chip in chips:
        unverified = unverified_set(chip.unverified_fields)
        rows.append(
            ChipRow(
                chip=chip,
                figures=[
                    Figure(getattr(chip, name), name in unverified)
                    for name, _label, _unit in CHIP_FIGURES
                ],
                factors=[(p, factors.get((chip.pk, p.pk))) for p in profiles],
            )
        )
    return {
        "form": form,
        "rows": rows,
        "profiles": profiles,
        "figure_columns": CHIP_FIGURES,
        "column_count": 2 + len(CHIP_FIGURES) + len(profiles),
        "table": table,
    }


def regions_context() -> dict:
    regions = list(selectors.region_list())
    colours = {r.code: ROLE_COLOURS.get(r.role, "#6b7280") for r in regions}
    by_code = {r.code: r for r in regions}
    by_id = {r.pk: r for r in regions}
    points = [regionmap.Point(r.code, r.lat, r.lon) for r in regions]
    markers = [
        RegionMarker(by_code[m.code], m)
        for m in regionmap.place_markers(points, colours)
    ]
    links = [
        MapLink(link, by_id[link.from_region_id], by_id[link.to_region_id], line)
        for link in selectors.network_links_between(
            from_role=Region.Role.EAST_DEMAND, to_role=Region.Role.WEST_SUPPLY
        )
        if (line := _segment(by_id, link)) is not None
    ]
    meridians, parallels = regionmap.graticule()
    return {
        "regions": [
            RegionRow(r, unverified_set(r.unverified_fields), colours[r.code])
            for r in regions
        ],
        "markers": markers,
        "links": links,
        "legend": [(ROLE_COLOURS[role], label) for role, label in Region.Role.choices],
        "map": {
            "width": regionmap.WIDTH,
            "height": regionmap.HEIGHT,
            "radius": regionmap.MARKER_RADIUS,
            "meridians": meridians,
            "parallels": parallels,
            "hu_line": regionmap.hu_line(),
        },
    }


def _segment(by_id: dict[int, Region], link: NetworkLink):
    a, b = by_id.get(link.from_region_id), by_id.get(link.to_region_id)
    if a is None or b is None:
        return None
    return regionmap.segment(
        regionmap.Point(a.code, a.lat, a.lon), regionmap.Point(b.code, b.lat, b.lon)
    )


def move_west_context(params: QueryDict) -> dict:
    table = _current_table()
    if table is None:
        return {"form": None, "result": None, "table": None}
    data = params.copy()
    for name, value in MOVE_WEST_DEFAULTS.items():
        data.setdefault(name, value)
    form = MoveWestForm(
        data,
        regions=(regions := list(selectors.region_list())),
        profiles=_profiles(),
        chips=list(selectors.chip_list()),
        table=table,
        factors=selectors.conversion_factors_map(table=table),
    )
    result = None
    if form.is_valid():
        result = _move_west_result(form.cleaned_data, regions)
    return {"form": form, "result": result, "table": table}


def _move_west_result(data: dict, regions: list[Region]) -> MoveWestResult | None:
    origin, profile = data["origin_region"], data["profile_obj"]
    try:
        surcharge_table = selectors.surcharge_table_current(profile=profile)
    except NoPublishedTable:
        return None
    surcharges = selectors.surcharges_into_region(
        table=surcharge_table, buy_region=origin
    )
    sites = [_site(r, surcharges.get(r.pk)) for r in regions]
    job = movewest.Job(
        scu_h=data["scu_h"],
        data_gb=data["data_gb"],
        factor=data["factor"].factor,
        tdp_w=Decimal(data["chip_obj"].tdp_w),
        intensity_gb_per_scu_h=profile.data_intensity_gb_per_scu_h,
    )
    comparison = movewest.compare(job, origin=origin.code, sites=sites)
    by_code = {r.code: r for r in regions}
    rows = [
        ResultRow(by_code[e.code], e, e is comparison.cheapest) for e in comparison.rows
    ]
    return MoveWestResult(
        origin=origin,
        profile=profile,
        chip=data["chip_obj"],
        factor=data["factor"],
        surcharge_version=surcharge_table.version,
        rows=rows,
        unreachable=[by_code[c] for c in comparison.unreachable],
        local=comparison.local,
        cheapest=rows[0] if rows else None,
        saving_cny=_saving(comparison),
        saving_pct=_saving_pct(comparison),
        data_gb=data["data_gb"],
    )


def _site(region: Region, surcharge: Surcharge | None) -> movewest.Site:
    return movewest.Site(
        code=region.code,
        electricity_cny_per_kwh=region.electricity_price_cny_per_kwh,
        carbon_kg_per_kwh=region.carbon_intensity_kg_per_kwh,
        pue=region.pue,
        surcharge_cny_per_scu_h=surcharge.surcharge if surcharge else None,
        latency_ms=surcharge.latency_ms if surcharge else None,
    )


def _saving(comparison: movewest.Comparison) -> Decimal | None:
    if comparison.local is None or comparison.cheapest is None:
        return None
    return comparison.local.total_cny - comparison.cheapest.total_cny


def _saving_pct(comparison: movewest.Comparison) -> Decimal | None:
    saving = _saving(comparison)
    if saving is None or not comparison.local or comparison.local.total_cny <= 0:
        return None
    return (saving / comparison.local.total_cny * 100).quantize(Decimal("0.1"))
