"""Published conversion and surcharge tables: values, precedence, immutability."""

import math
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from market import selectors, services
from market.conversion import scu_h
from market.exceptions import ImmutableRecordError, NoConversionFactor
from market.models import (
    BenchmarkFactor,
    ChipModel,
    ConversionFactor,
    NetworkLink,
    Region,
    Surcharge,
    WorkloadProfile,
)

pytestmark = pytest.mark.django_db

GPU_PROFILES = ["train", "infer", "hpc", "render"]


def _factor(chip_code: str, profile_code: str) -> ConversionFactor:
    table = selectors.conversion_table_current()
    return selectors.conversion_factor_get(
        table=table,
        chip=ChipModel.objects.get(code=chip_code),
        profile=WorkloadProfile.objects.get(code=profile_code),
    )


@pytest.mark.parametrize("profile", GPU_PROFILES)
def test_reference_chip_is_one_in_every_gpu_profile(profile):
    assert _factor("nvidia-a100-80gb-sxm", profile).factor == Decimal("1.000000")


def test_reference_cpu_is_one_in_cpu_profile():
    assert _factor("intel-xeon-platinum-8480", "cpu").factor == Decimal("1.000000")


def _train(bf16: float, bw: float, mem: float) -> float:
    """Hand-computed train factor: 0.6 BF16 + 0.3 bandwidth + 0.1 memory vs A100."""
    return (bf16 / 312) ** 0.6 * (bw / 2039) ** 0.3 * (mem / 80) ** 0.1


@pytest.mark.parametrize(
    ("chip", "expected_factor"),
    [
        ("nvidia-h100-sxm-80gb", _train(989.5, 3350, 80)),
        ("huawei-ascend-910b", _train(320, 1600, 64)),
        ("cambricon-mlu370-x8", _train(96, 614.4, 48)),
    ],
)
def test_scu_h_of_8_chip_clusters_over_24h(chip, expected_factor):
    """8 chips x 24 h x factor, to the factor's 6 decimal places."""
    factor = _factor(chip, "train").factor
    got = scu_h(factor=factor, count=8, hours=Decimal(24))
    assert math.isclose(float(got), 8 * 24 * expected_factor, abs_tol=8 * 24 * 1e-6)


def test_chip_without_fp64_has_no_hpc_factor():
    """The L40S publishes no FP64: no hpc factor, and asking for one raises."""
    assert ChipModel.objects.get(code="nvidia-l40s").fp64_tflops is None
    with pytest.raises(NoConversionFactor):
        _factor("nvidia-l40s", "hpc")
    assert _factor("nvidia-l40s", "train").factor > 0


def test_gpu_gets_no_cpu_factor():
    with pytest.raises(NoConversionFactor):
        _factor("nvidia-h100-sxm-80gb", "cpu")


def test_missing_bandwidth_is_marked_estimated():
    factor = _factor("huawei-ascend-910b1", "train")
    assert factor.estimated
    assert factor.missing_metrics == "memory_bandwidth_gbs"


def test_measured_benchmark_takes_precedence_in_next_table():
    chip = ChipModel.objects.get(code="huawei-ascend-910b")
    profile = WorkloadProfile.objects.get(code="train")
    before = _factor(chip.code, "train")
    BenchmarkFactor.objects.create(
        chip=chip, profile=profile, factor=Decimal("0.850000"), source="MLPerf-like run"
    )
    table = services.conversion_table_publish()
    after = selectors.conversion_factor_get(table=table, chip=chip, profile=profile)
    assert after.factor == Decimal("0.850000")
    assert after.source == ConversionFactor.Source.MEASURED
    # The older table still says what it said: trades that used it stay auditable.
    assert ConversionFactor.objects.get(pk=before.pk).factor == before.factor


def test_published_factor_cannot_change():
    factor = _factor("nvidia-h100-sxm-80gb", "train")
    factor.factor = Decimal("9")
    with pytest.raises(ImmutableRecordError):
        factor.save()
    with pytest.raises(ImmutableRecordError):
        ConversionFactor.objects.filter(pk=factor.pk).update(factor=Decimal("9"))
    with pytest.raises(ImmutableRecordError):
        factor.delete()
    with pytest.raises(ImmutableRecordError):
        factor.table.save()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_refuses_update_of_published_rows(catalogue):
    """Even raw SQL cannot change a published factor or surcharge on PostgreSQL."""
    factor = _factor("nvidia-h100-sxm-80gb", "train")
    for sql in (
        "UPDATE market_conversionfactor SET factor = 9 WHERE id = %s",
        "DELETE FROM market_conversionfactor WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            connection.cursor().execute(sql, [factor.pk])
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        connection.cursor().execute("UPDATE market_surcharge SET surcharge = 1")


def test_surcharges_zero_on_diagonal_and_follow_links():
    profile = WorkloadProfile.objects.get(code="infer")
    table = selectors.surcharge_table_current(profile=profile)
    rows = {
        (r.sell_region.code, r.buy_region.code): r
        for r in selectors.surcharges_list(table=table)
    }
    regions = list(Region.objects.values_list("code", flat=True))
    assert len(rows) == len(regions) ** 2
    for code in regions:
        assert rows[code, code].surcharge == Decimal("0.00")
    for link in NetworkLink.objects.select_related("from_region", "to_region"):
        row = rows[link.from_region.code, link.to_region.code]
        expected = (
            link.transfer_cny_per_gb * profile.data_intensity_gb_per_scu_h
        ).quantize(Decimal("0.01"))
        assert row.surcharge == expected
        assert row.latency_ms == link.latency_ms


def test_unlinked_pair_has_no_surcharge_and_edits_apply_only_to_new_tables():
    """Deleting a link removes the pair from the next table, not the current one."""
    gz, sz = Region.objects.get(code="CLU-GUIAN"), Region.objects.get(code="CITY-SZ")
    old = selectors.surcharge_table_current(
        profile=WorkloadProfile.objects.get(code="train")
    )
    NetworkLink.objects.filter(from_region=gz, to_region=sz).delete()
    services.surcharge_tables_publish()
    new = selectors.surcharge_table_current(
        profile=WorkloadProfile.objects.get(code="train")
    )
    assert new.version == old.version + 1
    assert not Surcharge.objects.filter(
        table=new, sell_region=gz, buy_region=sz
    ).exists()
    assert Surcharge.objects.filter(table=old, sell_region=gz, buy_region=sz).exists()


def test_derived_links_match_refdata_rules():
    """Latency = distance x 2 x 5 us/km + 0.5 ms; same hub transfers free."""
    bj, zjk = Region.objects.get(code="CITY-BJ"), Region.objects.get(code="CLU-ZJK")
    link = NetworkLink.objects.get(from_region=bj, to_region=zjk)
    assert link.transfer_cny_per_gb == 0  # both in the Jing-Jin-Ji hub
    assert Decimal("2") < link.latency_ms < Decimal("3")  # about 160 km apart
    sz, guian = Region.objects.get(code="CITY-SZ"), Region.objects.get(code="CLU-GUIAN")
    far = NetworkLink.objects.get(from_region=sz, to_region=guian)
    assert Decimal("0.20") <= far.transfer_cny_per_gb <= Decimal("0.50")
