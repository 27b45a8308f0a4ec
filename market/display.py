"""How catalogue rows read on a page: names in the active language, which figures are
unverified, which metrics an estimated factor lacks. No queries."""

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import get_language

from market.models import ChipModel, ConversionFactor

# `unverified_fields` keeps the column names of the sourced CSVs (shared/refdata/);
# these are the ones that differ from the model's field names.
FIELD_ALIASES = {
    "industrial_electricity_price_cny_per_kwh": "electricity_price_cny_per_kwh",
    "typical_pue": "pue",
}


def chinese_active() -> bool:
    return (get_language() or "").lower().startswith("zh")


def local_name(obj: object) -> str:
    """`name_zh` under Chinese, else `name_en`; objects without both: str(obj)."""
    name_en, name_zh = getattr(obj, "name_en", None), getattr(obj, "name_zh", None)
    if name_en is None or name_zh is None:
        return str(obj)
    return name_zh if chinese_active() and name_zh else name_en


def unverified_set(raw: str) -> frozenset[str]:
    """Model field names listed in an `unverified_fields` string (";" or "," separated,
    CSV spellings such as `bf16_tflops_dense` normalized)."""
    names = (n.strip() for n in raw.replace(",", ";").split(";"))
    return frozenset(FIELD_ALIASES.get(n, n.removesuffix("_dense")) for n in names if n)


def metric_label(field_name: str) -> str:
    try:
        return str(ChipModel._meta.get_field(field_name).verbose_name)
    except FieldDoesNotExist:  # a metric an older table names that is gone now
        return field_name


def missing_metrics_label(factor: ConversionFactor) -> str:
    return ", ".join(
        metric_label(m) for m in factor.missing_metrics.split(",") if m.strip()
    )
