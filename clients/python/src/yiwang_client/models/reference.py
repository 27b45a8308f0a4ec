"""Reference data: regions, chips, workload profiles, conversion, surcharges,
providers."""

from decimal import Decimal

from yiwang_client.models.common import ChipKind, RegionRole, model


@model
class Region:
    code: str
    name_en: str
    name_zh: str
    province: str | None = None
    hub: str
    hub_name_en: str
    hub_name_zh: str
    role: RegionRole
    lat: Decimal
    lon: Decimal
    electricity_price_cny_per_kwh: Decimal
    carbon_intensity_kg_per_kwh: Decimal
    green_share: Decimal | None = None
    pue: Decimal
    residency_zone: str
    unverified_fields: str | None = None
    suspended: bool
    suspended_reason: str | None


@model
class Chip:
    code: str
    vendor: str
    model: str
    kind: ChipKind
    architecture: str | None = None
    stack: str
    memory_gb: Decimal | None = None
    memory_bandwidth_gbs: Decimal | None = None
    fp64_tflops: Decimal | None = None
    fp32_tflops: Decimal | None = None
    tf32_tflops: Decimal | None = None
    bf16_tflops: Decimal | None = None
    fp16_tflops: Decimal | None = None
    int8_tops: Decimal | None = None
    tdp_w: int | None = None
    release_year: int | None = None
    unverified_fields: str | None = None


@model
class Profile:
    code: str
    name_en: str
    name_zh: str
    chip_kind: ChipKind
    reference_chip: str
    primary_metrics: list[str]
    primary_weight: Decimal
    secondary_weights: dict[str, float]
    data_intensity_gb_per_scu_h: Decimal
    description: str | None = None


@model
class Conversion:
    chip: str
    profile: str
    stack: str
    count: int
    hours: Decimal
    factor: Decimal
    estimated: bool
    source: str
    missing_metrics: list[str]
    table_version: int
    scu_h: Decimal


@model
class Surcharge:
    sell_region: str
    buy_region: str
    surcharge: Decimal
    latency_ms: Decimal
    table_version: int


@model
class Provider:
    code: str
    reliability: Decimal
    deliveries: int
    delivered_share: Decimal | None
    disputes_lost: int
    score_method: str
