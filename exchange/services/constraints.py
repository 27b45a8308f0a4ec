"""A buy's constraints, checked against the market and normalized into what the
order stores and echoes: every key known, every code known (a 400 naming the key
otherwise, never ignored), lists sorted and without repeats, `regions` x
`residency_zone` resolved into the regions the engine checks (both must hold)."""

from decimal import Decimal

from exchange.exceptions import InvalidOrder
from market.models import Certification, ChipModel, Region, SoftwareStack

KEYS = (
    "stacks",
    "max_latency_ms",
    "regions",
    "residency_zone",
    "min_green_share",
    "chips",
    "vendors",
    "min_memory_gb",
    "confidential",
    "certifications",
    "min_reliability",
)
HUNDREDTH = Decimal("0.01")


def _bad(key: str, message: str) -> InvalidOrder:
    return InvalidOrder(message, fields={"constraints": {key: [message]}})


def constraints_resolve(raw: dict | None) -> dict:
    """The constraints as the service understands them (see the module)."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise _bad(unknown[0], f"Unknown constraint {unknown[0]!r}.")
    out: dict = {}
    _codes(raw, out, "stacks", _stack_codes)
    _regions(raw, out)
    if raw.get("max_latency_ms") is not None:
        out["max_latency_ms"] = raw["max_latency_ms"]
    if raw.get("min_green_share") is not None:
        out["min_green_share"] = str(raw["min_green_share"])
    _codes(raw, out, "chips", _chip_codes)
    _codes(raw, out, "vendors", _vendor_codes)
    _codes(raw, out, "certifications", lambda: set(Certification.values))
    if raw.get("min_memory_gb") is not None:
        out["min_memory_gb"] = _at_least(raw, "min_memory_gb", 1)
    if raw.get("confidential"):
        out["confidential"] = True
    if raw.get("min_reliability") is not None:
        out["min_reliability"] = str(_reliability(raw["min_reliability"]))
    return out


def _codes(raw: dict, out: dict, key: str, known) -> None:
    """A list of codes, each one known (else a 400 naming it), sorted."""
    values = raw.get(key)
    if values is None:
        return
    if not values:
        raise _bad(key, f"An empty {key} list allows nothing: leave it out instead.")
    unknown = sorted(set(values) - known())
    if unknown:
        names = ", ".join(repr(code) for code in unknown)
        raise _bad(key, f"Unknown {key}: {names}.")
    out[key] = sorted(set(values))


def _at_least(raw: dict, key: str, low: int) -> int:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _bad(key, f"{key} is a whole number of at least {low}.")
    return value


def _reliability(value) -> Decimal:
    share = Decimal(str(value))
    if not Decimal(0) <= share <= Decimal(1) or share != share.quantize(HUNDREDTH):
        raise _bad("min_reliability", "min_reliability is from 0 to 1, to two places.")
    return share.quantize(HUNDREDTH)


def _regions(raw: dict, out: dict) -> None:
    regions, zone = raw.get("regions"), raw.get("residency_zone")
    resolved: set[str] | None = None
    if regions is not None:
        _codes(raw, out, "regions", _region_codes)
        resolved = set(regions)
    if zone is not None:
        in_zone = set(
            Region.objects.filter(residency_zone=zone).values_list("code", flat=True)
        )
        if not in_zone:
            raise _bad("residency_zone", f"Unknown residency zone {zone!r}.")
        out["residency_zone"] = zone
        resolved = in_zone if resolved is None else resolved & in_zone
    if resolved is not None:
        out["resolved_regions"] = sorted(resolved)


def _stack_codes() -> set[str]:
    return set(SoftwareStack.objects.values_list("code", flat=True))


def _region_codes() -> set[str]:
    return set(Region.objects.values_list("code", flat=True))


def _chip_codes() -> set[str]:
    return set(ChipModel.objects.values_list("code", flat=True))


def _vendor_codes() -> set[str]:
    return set(ChipModel.objects.values_list("vendor", flat=True))
