"""Unit conversion: factors are weighted geometric means of metric ratios to the
reference chip, computed over the whole catalogue at once."""

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.conversion import ProfileWeights, compute_factors

TRAIN = ProfileWeights(
    primary_metrics=["bf16_tflops", "fp16_tflops"],
    primary_weight=Decimal("0.6"),
    secondary_weights={
        "memory_bandwidth_gbs": Decimal("0.3"),
        "memory_gb": Decimal("0.1"),
    },
)
REF = {
    "bf16_tflops": Decimal(312),
    "fp16_tflops": Decimal(312),
    "memory_bandwidth_gbs": Decimal(2039),
    "memory_gb": Decimal(80),
}

figures = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(5000), places=1)


def test_reference_chip_is_exactly_one():
    """The reference chip's factor is 1.0, not 0.999999."""
    [result] = compute_factors([REF], REF, TRAIN)
    assert result.factor == Decimal("1.000000")
    assert not result.estimated


def test_fallback_metric_used_when_primary_missing():
    """A chip without BF16 is rated on FP16 against the reference's FP16."""
    chip = dict(REF, bf16_tflops=None, fp16_tflops=Decimal(156))
    [result] = compute_factors([chip], REF, TRAIN)
    assert result.factor == pytest.approx(
        Decimal("0.5") ** Decimal("0.6"), abs=Decimal("1e-6")
    )


def test_missing_primary_gives_no_factor():
    """Without its primary metric (or any fallback) a chip gets no factor, not 0."""
    chip = dict(REF, bf16_tflops=None, fp16_tflops=None)
    assert compute_factors([chip, REF], REF, TRAIN)[0] is None


def test_missing_secondary_is_renormalized_and_estimated():
    """A missing bandwidth is left out, the remaining weights renormalized."""
    chip = dict(REF, bf16_tflops=Decimal(624), memory_bandwidth_gbs=None)
    [result] = compute_factors([chip], REF, TRAIN)
    assert result.estimated
    assert result.missing_metrics == ("memory_bandwidth_gbs",)
    expected = math.exp((0.6 * math.log(2)) / 0.7)
    assert float(result.factor) == pytest.approx(expected, abs=Decimal("1e-6"))


@given(
    base=st.fixed_dictionaries({k: figures for k in REF}),
    metric=st.sampled_from(["bf16_tflops", "memory_bandwidth_gbs", "memory_gb"]),
    bump=st.decimals(min_value=Decimal("1.1"), max_value=Decimal(10), places=2),
)
def test_factor_grows_with_each_weighted_metric(base, metric, bump):
    """Raising any metric that has weight raises the factor."""
    better = dict(base, **{metric: base[metric] * bump})
    low, high = compute_factors([base, better], REF, TRAIN)
    assert high.factor > low.factor


def test_unweighted_metric_does_not_move_the_factor():
    chip = dict(REF, fp64_tflops=Decimal(100))
    assert compute_factors([chip], REF, TRAIN)[0].factor == Decimal("1.000000")
