"""Unit conversion: how many SCU (A100-hours of work for a profile) one chip-hour is.

A chip's factor for a profile is the weighted geometric mean of its metric ratios to the
profile's reference chip (the SPEC approach), computed with numpy over the whole
catalogue at once. The profile's primary metric is mandatory (its first available
fallback is used); a chip without it gets no factor. A missing secondary metric is left
out, the remaining weights renormalized, and the factor marked *estimated*.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

FACTOR_PLACES = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class ProfileWeights:
    primary_metrics: Sequence[str]
    primary_weight: Decimal
    secondary_weights: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class ComputedFactor:
    factor: Decimal
    estimated: bool
    missing_metrics: tuple[str, ...]


class ReferenceIncomplete(ValueError):
    """The reference chip lacks a metric the profile weighs: no ratio is defined."""


def _column(chips: Sequence[Mapping[str, Decimal | None]], metric: str) -> np.ndarray:
    values = [chip.get(metric) for chip in chips]
    return np.array([np.nan if v is None or v <= 0 else v for v in values], dtype=float)


def compute_factors(
    chips: Sequence[Mapping[str, Decimal | None]],
    reference: Mapping[str, Decimal | None],
    weights: ProfileWeights,
) -> list[ComputedFactor | None]:
    """Factors of `chips` (metric name -> figure, None when unpublished) for a profile.

    Returns one entry per chip, None where the chip lacks the primary metric.
    """
    for metric in weights.secondary_weights:
        if reference.get(metric) is None:
            raise ReferenceIncomplete(f"reference chip has no {metric}")
    n = len(chips)
    # Primary: the first fallback metric the chip has, over the reference's same metric.
    primary_ratio = np.full(n, np.nan)
    for metric in weights.primary_metrics:
        ref = reference.get(metric)
        if ref is None:
            continue
        pick = np.isnan(primary_ratio)
        primary_ratio[pick] = _column(chips, metric)[pick] / np.float64(ref)
    has_primary = ~np.isnan(primary_ratio)

    w_primary = np.float64(weights.primary_weight)
    log_sum = w_primary * np.log(np.where(has_primary, primary_ratio, 1.0))
    weight_sum = np.full(n, w_primary)
    secondary = list(weights.secondary_weights.items())
    present = np.ones((n, len(secondary)), dtype=bool)
    for j, (metric, weight) in enumerate(secondary):
        ratio = _column(chips, metric) / np.float64(reference[metric])  # type: ignore[arg-type]
        ok = ~np.isnan(ratio)
        present[:, j] = ok
        log_sum += np.where(
            ok, np.float64(weight) * np.log(np.where(ok, ratio, 1.0)), 0.0
        )
        weight_sum += np.where(ok, np.float64(weight), 0.0)
    factors = np.exp(log_sum / weight_sum)

    out: list[ComputedFactor | None] = []
    for i in range(n):
        if not has_primary[i]:
            out.append(None)
            continue
        missing = tuple(m for j, (m, _w) in enumerate(secondary) if not present[i, j])
        value = Decimal(str(factors[i])).quantize(FACTOR_PLACES, ROUND_HALF_EVEN)
        out.append(ComputedFactor(value, bool(missing), missing))
    return out


def scu_h(*, factor: Decimal, count: int, hours: Decimal) -> Decimal:
    """SCU-h that `count` chips deliver over `hours`."""
    return factor * count * hours
