"""The move-west arithmetic: hand-checked costs, ranking, rounding and unreachable
regions. Pure Decimals, no database."""

from decimal import Decimal as D

import pytest

from market.movewest import Job, Site, compare, estimate_site

JOB = Job(
    scu_h=D(1000),
    data_gb=D(500),
    factor=D(2),
    tdp_w=D(500),
    intensity_gb_per_scu_h=D(2),
)
HOME = Site("HOME", D("0.80"), D("0.5"), D("1.5"), latency_ms=D("0.5"))
WEST = Site("WEST", D("0.30"), D("0.6"), D("1.2"), D("0.10"), D(15))
FAR = Site("FAR", D("0.25"), D("0.4"), D("1.2"), D("0.30"), D(30))
NOLINK = Site("NOLINK", D("0.10"), D("0.1"), D("1.1"))


def test_compare_ranks_hand_checked_case():
    """1000 SCU-h on a factor-2, 500 W chip is 500 chip-hours, 250 kWh at the chip.

    HOME: 250 x 1.5 = 375 kWh x 0.80 = 300.00; no network.
    WEST: 300 kWh x 0.30 = 90.00 + surcharge 0.10 x 1000 = 100.00 -> 190.00.
    FAR:  300 kWh x 0.25 = 75.00 + 0.30 x 1000 = 300.00 -> 375.00.
    The job's 500 GB is not added: the surcharge already prices the 2 GB per SCU-h
    the tariff assumes (2000 GB for this job).
    """
    result = compare(JOB, origin="HOME", sites=[HOME, WEST, FAR, NOLINK])

    assert [e.code for e in result.rows] == ["WEST", "HOME", "FAR"]
    west, home, far = result.rows
    assert (west.energy_kwh, west.electricity_cny) == (D("300.0"), D("90.00"))
    assert (west.network_cny, west.tariff_data_gb) == (D("100.00"), D("2000.0"))
    assert west.total_cny == D("190.00")
    assert west.carbon_kg == D("180.0")
    assert (home.energy_kwh, home.total_cny, home.carbon_kg) == (
        D("375.0"),
        D("300.00"),
        D("187.5"),
    )
    assert far.total_cny == D("375.00")
    assert (west.vs_local_cny, home.vs_local_cny, far.vs_local_cny) == (
        D("-110.00"),
        D("0.00"),
        D("75.00"),
    )
    assert result.cheapest is west
    assert result.local is home
    assert result.unreachable == ["NOLINK"]


def test_compare_home_costs_no_network_even_with_a_surcharge_figure():
    """At home the surcharge and the tariff's data are zero, whatever the site
    says."""
    home = Site("HOME", D("0.80"), D("0.5"), D("1.5"), D("9.99"), D(1))
    estimate = estimate_site(JOB, home, local=True)

    assert estimate is not None
    assert (estimate.network_cny, estimate.tariff_data_gb) == (D(0), D(0))
    assert estimate.total_cny == D("300.00")


def test_compare_counts_the_network_once_whatever_the_jobs_data():
    """The job's own data changes no total: the surcharge is the network's price
    (transfer price x data intensity), counted once."""
    light = compare(JOB, origin="HOME", sites=[HOME, WEST])
    heavy_job = Job(
        scu_h=D(1000),
        data_gb=D(10**6),
        factor=D(2),
        tdp_w=D(500),
        intensity_gb_per_scu_h=D(2),
    )
    heavy = compare(heavy_job, origin="HOME", sites=[HOME, WEST])

    assert [e.total_cny for e in heavy.rows] == [e.total_cny for e in light.rows]
    assert heavy.rows[0].total_cny == D("190.00")


def test_compare_prefers_home_on_a_tie():
    """Equal totals: staying home ranks first (moving would save nothing)."""
    twin = Site("AAA", D("0.80"), D("0.5"), D("1.5"), D(0), D(5))
    result = compare(JOB, origin="HOME", sites=[twin, HOME])

    assert [e.code for e in result.rows] == ["HOME", "AAA"]
    assert result.cheapest.local


def test_compare_rounds_money_half_up_to_the_fen():
    """0.1 SCU-h at 0.05 CNY/SCU-h is 0.005 CNY: half-up to 0.01."""
    job = Job(scu_h=D("0.1"), data_gb=D(0), factor=D(1), tdp_w=D(1))
    site = Site("X", D("0.1"), D("0.1"), D(1), D("0.05"), D(1))
    estimate = estimate_site(job, site, local=False)

    assert estimate.network_cny == D("0.01")
    assert estimate.total_cny == estimate.network_cny + estimate.electricity_cny


def test_compare_without_the_origin_has_no_delta():
    """When the origin is not among the sites, nothing is compared with home."""
    result = compare(JOB, origin="ELSEWHERE", sites=[WEST, FAR])

    assert result.local is None
    assert all(e.vs_local_cny is None for e in result.rows)


@pytest.mark.parametrize(
    "job",
    [
        Job(scu_h=D(-1), data_gb=D(0), factor=D(1), tdp_w=D(100)),
        Job(scu_h=D(1), data_gb=D(-1), factor=D(1), tdp_w=D(100)),
        Job(scu_h=D(1), data_gb=D(0), factor=D(0), tdp_w=D(100)),
        Job(scu_h=D(1), data_gb=D(0), factor=D(1), tdp_w=D(0)),
    ],
)
def test_compare_rejects_impossible_jobs(job):
    """Negative work or data, and a zero factor or TDP, are refused, not computed."""
    with pytest.raises(ValueError, match="must"):
        compare(job, origin="HOME", sites=[HOME])


def test_compare_money_stays_decimal():
    """Every money figure is a Decimal (never a float)."""
    row = compare(JOB, origin="HOME", sites=[HOME, WEST]).rows[0]
    for value in (
        row.network_cny,
        row.electricity_cny,
        row.total_cny,
    ):
        assert isinstance(value, D)
