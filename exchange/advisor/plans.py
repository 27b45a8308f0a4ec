"""When and where should a job run? Plans from the live books, ranked by what the
buyer would pay. Pure: plain data in, plain data out, so the ranking can be checked
against a brute-force computation.

A *pair* is one instrument's resting asks in one region, with the surcharge into the
buyer's origin, as matching charges them: taking an ask of price p costs p + s per
SCU-h. A *plan* buys the job's SCU-h in one pair (one leg) or, for a job that can
be split, over several pairs (legs). For a split job the cheapest plan takes the
cheapest asks across all pairs, whatever their window (costs are linear in the
quantity, so taking the cheapest SCU-h first is optimal); the cheapest split at home
is offered beside it. Every one-leg plan that can hold the whole job is ranked too.

Electricity and carbon are shown beside the price, never added to it: they are the
seller's costs, already in the ask. Per ask, energy = SCU-h x kWh per SCU-h of its
chip and region (TDP / factor x PUE); electricity = energy x the region's price x
the window's time-of-use multiplier; carbon = energy x the grid's intensity.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

MONEY = Decimal("0.0001")
CNY = Decimal("0.01")
TENTH = Decimal("0.1")
MAX_PLANS = 100


@dataclass(frozen=True, slots=True)
class Ask:
    price: Decimal  # at the site
    quantity: Decimal
    sequence: int
    kwh_per_scu_h: Decimal | None  # None: the chip's TDP or factor is unknown


@dataclass(frozen=True, slots=True)
class Pair:
    """One instrument's asks in one region, seen from the buyer's origin."""

    region: str
    symbol: str
    start: datetime
    end: datetime
    surcharge: Decimal
    latency_ms: Decimal
    home: bool
    electricity_cny_per_kwh: Decimal  # flat price x the window's multiplier
    carbon_kg_per_kwh: Decimal
    asks: tuple[Ask, ...]  # price-time order

    @property
    def depth(self) -> Decimal:
        return sum((a.quantity for a in self.asks), Decimal(0))


@dataclass(frozen=True, slots=True)
class Job:
    scu_h: Decimal
    data_gb: Decimal
    intensity_gb_per_scu_h: Decimal  # the profile's, which the tariff assumes
    split: bool


@dataclass(frozen=True, slots=True)
class Leg:
    pair: Pair
    quantity: Decimal
    cost: Decimal  # all-in
    network: Decimal
    energy_kwh: Decimal | None
    electricity: Decimal | None
    carbon_kg: Decimal | None

    @property
    def price(self) -> Decimal:
        """The volume-weighted site price of the asks the leg takes."""
        return ((self.cost - self.network) / self.quantity).quantize(MONEY)

    @property
    def all_in_price(self) -> Decimal:
        return self.price + self.pair.surcharge


@dataclass(frozen=True, slots=True)
class Plan:
    legs: tuple[Leg, ...]
    all_in_cost: Decimal
    network_cost: Decimal
    energy_kwh: Decimal | None
    electricity_cost: Decimal | None
    carbon_kg: Decimal | None
    latency_ms: Decimal
    data_gb: Decimal
    tariff_data_gb: Decimal
    home: bool = field(default=False)

    @property
    def start(self) -> datetime:
        return min(leg.pair.start for leg in self.legs)

    @property
    def end(self) -> datetime:
        return max(leg.pair.end for leg in self.legs)

    @property
    def key(self) -> tuple:
        return tuple(sorted((leg.pair.symbol, leg.pair.region) for leg in self.legs))


def take(pair: Pair, quantity: Decimal) -> Leg | None:
    """Buy `quantity` from the pair's asks, cheapest first; None if too thin."""
    return _leg(pair, list(_walk(pair.asks, quantity)), quantity)


def _walk(asks, quantity: Decimal):
    left = quantity
    for ask in asks:
        if left <= 0:
            break
        got = min(ask.quantity, left)
        left -= got
        yield ask, got


def _leg(pair: Pair, taken: list[tuple[Ask, Decimal]], quantity: Decimal):
    got = sum((q for _a, q in taken), Decimal(0))
    if got < quantity or not taken:
        return None
    cost = sum(((a.price + pair.surcharge) * q for a, q in taken), Decimal(0))
    energy = None
    if all(a.kwh_per_scu_h is not None for a, _q in taken):
        energy = sum((a.kwh_per_scu_h * q for a, q in taken), Decimal(0))
    return Leg(
        pair=pair,
        quantity=got,
        cost=cost,
        network=pair.surcharge * got,
        energy_kwh=energy,
        electricity=None if energy is None else energy * pair.electricity_cny_per_kwh,
        carbon_kg=None if energy is None else energy * pair.carbon_kg_per_kwh,
    )


def _sum_or_none(values) -> Decimal | None:
    values = list(values)
    return None if any(v is None for v in values) else sum(values, Decimal(0))


def _round(value: Decimal | None, places: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(places, ROUND_HALF_UP)


def plan_of(legs: list[Leg], job: Job) -> Plan:
    legs = sorted(legs, key=lambda g: (g.pair.start, g.pair.end, g.pair.region))
    remote = sum((g.quantity for g in legs if not g.pair.home), Decimal(0))
    return Plan(
        legs=tuple(legs),
        all_in_cost=sum((g.cost for g in legs), Decimal(0)).quantize(MONEY),
        network_cost=sum((g.network for g in legs), Decimal(0)).quantize(MONEY),
        energy_kwh=_round(_sum_or_none(g.energy_kwh for g in legs), TENTH),
        electricity_cost=_round(_sum_or_none(g.electricity for g in legs), CNY),
        carbon_kg=_round(_sum_or_none(g.carbon_kg for g in legs), TENTH),
        latency_ms=max(g.pair.latency_ms for g in legs),
        data_gb=job.data_gb,
        tariff_data_gb=(remote * job.intensity_gb_per_scu_h).quantize(TENTH),
        home=all(g.pair.home for g in legs),
    )


def cheapest_split(pairs: list[Pair], job: Job) -> Plan | None:
    """The cheapest SCU-h across the pairs, whatever their window; None if the
    pairs together hold less than the job."""
    lots = sorted(
        ((p, a) for p in pairs for a in p.asks),
        key=lambda lot: (
            lot[1].price + lot[0].surcharge,
            lot[0].start,
            lot[0].region,
            lot[0].symbol,
            lot[1].price,
            lot[1].sequence,
        ),
    )
    chosen: dict[Pair, list[tuple[Ask, Decimal]]] = defaultdict(list)
    left = job.scu_h
    for pair, ask in lots:
        if left <= 0:
            break
        got = min(ask.quantity, left)
        left -= got
        chosen[pair].append((ask, got))
    if left > 0:
        return None
    legs = [
        _leg(pair, taken, sum((q for _a, q in taken), Decimal(0)))
        for pair, taken in chosen.items()
    ]
    return plan_of([leg for leg in legs if leg is not None], job)


def rank(pairs: list[Pair], job: Job) -> tuple[list[Plan], Plan | None]:
    """(plans cheapest first, the plan at home): every pair that holds the whole
    job as a one-leg plan, and for a split job the cheapest split overall and at
    home. Ties: fewer legs, then the earlier start, then home, then by region."""
    plans = [plan_of([leg], job) for pair in pairs if (leg := take(pair, job.scu_h))]
    home_split = None
    if job.split:
        home_split = cheapest_split([p for p in pairs if p.home], job)
        plans += [p for p in (cheapest_split(pairs, job), home_split) if p]
    unique = {plan.key: plan for plan in plans}
    ordered = sorted(unique.values(), key=_order)
    home = home_split or next((p for p in ordered if p.home), None)
    return ordered[:MAX_PLANS], home


def _order(plan: Plan) -> tuple:
    return (
        plan.all_in_cost,
        len(plan.legs),
        plan.start,
        not plan.home,
        [leg.pair.region for leg in plan.legs],
        [leg.pair.symbol for leg in plan.legs],
    )
