"""Should I move west? What one job costs at home and in every other region.

Pure (no Django): plain Decimals in, rounded Decimals out, so the arithmetic is easy to
check by hand. For a job of `scu_h` SCU-h of one profile on one chip model, with
`data_gb` GB of its own data, in region `a`:

- network cost   = s(a, origin) x SCU-h (the published surcharge; 0 at home)
- energy (kWh)   = SCU-h / factor x TDP (kW) x PUE of `a` (chip-hours at the meter)
- electricity    = energy x the electricity price of `a` (its flat time-of-use price)
- carbon (kgCO2) = energy x the grid carbon intensity of `a`
- total          = network cost + electricity

The network is counted once: the surcharge is already the link's transfer price x
the profile's data intensity, so it prices `tariff_data_gb` = SCU-h x intensity (0 at
home). The job's own `data_gb` is shown beside that figure, never added to the total.

A region without a surcharge entry cannot trade with the origin and is listed as
unreachable. Money is rounded half-up to the fen, and the total is the sum of the
rounded parts, so the figures a user sees add up.
"""

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

CNY_PLACES = Decimal("0.01")
KWH_PLACES = Decimal("0.1")
KG_PLACES = Decimal("0.1")
WATTS_PER_KW = Decimal(1000)


@dataclass(frozen=True, slots=True)
class Job:
    scu_h: Decimal
    data_gb: Decimal
    factor: Decimal  # SCU per chip-hour of the chip for the profile
    tdp_w: Decimal
    intensity_gb_per_scu_h: Decimal = Decimal(0)  # what the surcharge assumes


@dataclass(frozen=True, slots=True)
class Site:
    """One candidate region; link figures are None where no link reaches it."""

    code: str
    electricity_cny_per_kwh: Decimal
    carbon_kg_per_kwh: Decimal
    pue: Decimal
    surcharge_cny_per_scu_h: Decimal | None = None
    latency_ms: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Estimate:
    code: str
    local: bool
    surcharge_cny_per_scu_h: Decimal
    network_cny: Decimal
    tariff_data_gb: Decimal  # what the surcharge prices; the job's data is apart
    latency_ms: Decimal | None
    energy_kwh: Decimal
    electricity_cny: Decimal
    carbon_kg: Decimal
    total_cny: Decimal
    vs_local_cny: Decimal | None = None  # total minus the local total; < 0 saves


@dataclass(frozen=True, slots=True)
class Comparison:
    rows: list[Estimate]  # cheapest first
    unreachable: list[str]  # codes of regions with no link to the origin
    local: Estimate | None
    cheapest: Estimate | None


def _round(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, ROUND_HALF_UP)


def energy_kwh(job: Job, pue: Decimal) -> Decimal:
    """Energy at the meter: chip-hours x TDP in kW x PUE (unrounded)."""
    return job.scu_h / job.factor * (job.tdp_w / WATTS_PER_KW) * pue


def estimate_site(job: Job, site: Site, *, local: bool) -> Estimate | None:
    """The job's cost in `site`; None when the site has no link to the origin."""
    if local:
        surcharge, tariff_gb = Decimal(0), Decimal(0)
    elif site.surcharge_cny_per_scu_h is None:
        return None
    else:
        surcharge = site.surcharge_cny_per_scu_h
        tariff_gb = job.scu_h * job.intensity_gb_per_scu_h
    energy = energy_kwh(job, site.pue)
    network_cny = _round(surcharge * job.scu_h, CNY_PLACES)
    electricity_cny = _round(energy * site.electricity_cny_per_kwh, CNY_PLACES)
    return Estimate(
        code=site.code,
        local=local,
        surcharge_cny_per_scu_h=surcharge,
        network_cny=network_cny,
        tariff_data_gb=_round(tariff_gb, KWH_PLACES),
        latency_ms=site.latency_ms,
        energy_kwh=_round(energy, KWH_PLACES),
        electricity_cny=electricity_cny,
        carbon_kg=_round(energy * site.carbon_kg_per_kwh, KG_PLACES),
        total_cny=network_cny + electricity_cny,
    )


def _check(job: Job) -> None:
    if job.factor <= 0 or job.tdp_w <= 0:
        raise ValueError("factor and TDP must be positive")
    if job.scu_h < 0 or job.data_gb < 0:
        raise ValueError("SCU-h and GB must not be negative")


def compare(job: Job, *, origin: str, sites: list[Site]) -> Comparison:
    """Every site's estimate, cheapest total first (at equal cost, home first: moving
    work that saves nothing is not worth the trouble), and the unreachable ones."""
    _check(job)
    estimates: list[Estimate] = []
    unreachable: list[str] = []
    for site in sites:
        estimate = estimate_site(job, site, local=site.code == origin)
        if estimate is None:
            unreachable.append(site.code)
        else:
            estimates.append(estimate)
    local = next((e for e in estimates if e.local), None)
    if local is not None:
        estimates = [_with_delta(e, local.total_cny) for e in estimates]
        local = next(e for e in estimates if e.local)
    estimates.sort(key=lambda e: (e.total_cny, not e.local, e.code))
    return Comparison(
        rows=estimates,
        unreachable=sorted(unreachable),
        local=local,
        cheapest=estimates[0] if estimates else None,
    )


def _with_delta(estimate: Estimate, local_total: Decimal) -> Estimate:
    return replace(estimate, vs_local_cny=estimate.total_cny - local_total)
