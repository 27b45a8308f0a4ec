"""The national view of the market: per region and per hub, the capacity providers
listed, what sold, what was delivered, utilization, the average price and the carbon;
and the flows between the regions where buyers are and the regions where the compute
ran (who buys where: the east-west table).

Over a scope of instruments: the listed products (days and blocks; operators'
specials are tests and drills, not the market) whose delivery window ends within the
last `days` days or later (the recent and the coming windows), of one profile or
all. Definitions:

- listed: SCU-h of sell orders still offered or sold (`filled + remaining`; what a
  cancelled or expired order no longer offers is not counted);
- sold: SCU-h traded with the sell order in the region; bought: with the buyer's
  origin in it;
- delivered: SCU-h the providers reported delivered (or an operator set), for trades
  whose delivery is known;
- utilization: sold / listed;
- average price: volume-weighted site price of what sold;
- carbon: kgCO2 of what sold (exchange.marketdata.carbon).

Sums are done in Python with Decimal (SQLite would add decimals as floats).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from exchange.marketdata.carbon import CARBON_FIELDS, carbon_rows, with_carbon_inputs
from exchange.models import Instrument, Order, Trade
from market import selectors as market_selectors
from market.models import Hub, Participant, Region

PRICE_PLACES = Decimal("0.01")
PCT_PLACES = Decimal("0.1")
ZERO_QTY = Decimal("0.0")


@dataclass
class Tally:
    """What one region, hub or buyer saw over the scope."""

    listed: Decimal = ZERO_QTY
    sold: Decimal = ZERO_QTY
    bought: Decimal = ZERO_QTY
    delivered: Decimal = ZERO_QTY
    notional: Decimal = Decimal("0.0000")  # of what sold, at site
    paid: Decimal = Decimal("0.0000")  # of what was bought, all-in
    carbon_kg: Decimal = Decimal("0.000")  # of what sold (regions), bought (buyers)
    carbon_unknown: int = 0  # trades whose chip has no published TDP
    trades: int = 0

    def add(self, other: "Tally") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def utilization_pct(self) -> Decimal | None:
        if not self.listed:
            return None
        return (self.sold / self.listed * 100).quantize(PCT_PLACES)

    @property
    def average_price(self) -> Decimal | None:
        """Of what sold, at site."""
        if not self.sold:
            return None
        return (self.notional / self.sold).quantize(PRICE_PLACES)

    @property
    def average_paid(self) -> Decimal | None:
        """Of what was bought, all-in."""
        if not self.bought:
            return None
        return (self.paid / self.bought).quantize(PRICE_PLACES)


@dataclass
class Row:
    subject: Region | Hub | Participant
    tally: Tally


@dataclass
class Flows:
    """SCU-h by (buyer's region, seller's region)."""

    buy_regions: list[Region]
    sell_regions: list[Region]
    cells: dict[tuple[int, int], Decimal]
    buy_totals: dict[int, Decimal]
    sell_totals: dict[int, Decimal]
    total: Decimal
    east_to_west: Decimal  # bought in an eastern demand region, run in the west

    @property
    def east_to_west_pct(self) -> Decimal | None:
        if not self.total:
            return None
        return (self.east_to_west / self.total * 100).quantize(PCT_PLACES)

    def rows(self) -> list[tuple[Region, list[Decimal | None], Decimal]]:
        return [
            (
                buy,
                [self.cells.get((buy.pk, sell.pk)) for sell in self.sell_regions],
                self.buy_totals[buy.pk],
            )
            for buy in self.buy_regions
        ]

    def sell_total_list(self) -> list[Decimal]:
        return [self.sell_totals[s.pk] for s in self.sell_regions]


@dataclass
class NationalView:
    since: datetime
    regions: list[Row]
    hubs: list[Row]
    total: Tally
    flows: Flows
    buyers: list[Row] = field(default_factory=list)  # operators only


def scope_instruments(*, days: int, profile: str | None) -> QuerySet[Instrument]:
    since = timezone.now() - timedelta(days=days)
    instruments = Instrument.objects.filter(
        delivery_end__gte=since, product__in=Instrument.LISTED_PRODUCTS
    )
    if profile:
        instruments = instruments.filter(profile__code=profile)
    return instruments


def national_view(
    *, days: int, profile: str | None = None, with_buyers: bool = False
) -> NationalView:
    """The regions, hubs and flows over the scope; `with_buyers` adds the tally per
    buying participant (for operators: it names them)."""
    instruments = scope_instruments(days=days, profile=profile)
    regions = list(market_selectors.region_list())
    by_region: dict[int, Tally] = defaultdict(Tally)
    by_buyer: dict[int, Tally] = defaultdict(Tally)
    flows: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO_QTY)
    for region_id, listed in _listed(instruments):
        by_region[region_id].listed += listed
    for t in _trades(instruments):
        seller = by_region[t.sell_region]
        seller.trades += 1
        seller.sold += t.quantity
        seller.notional += t.price * t.quantity
        seller.delivered += t.delivered or ZERO_QTY
        _carbon(seller, t.kg)
        for tally in (by_region[t.buy_region], by_buyer[t.buyer]):
            tally.bought += t.quantity
            tally.paid += t.all_in_price * t.quantity
        _carbon(by_buyer[t.buyer], t.kg)
        by_buyer[t.buyer].trades += 1
        flows[(t.buy_region, t.sell_region)] += t.quantity
    view = NationalView(
        since=timezone.now() - timedelta(days=days),
        regions=[Row(r, by_region[r.pk]) for r in regions],
        hubs=_hubs(regions, by_region),
        total=_sum(by_region.values()),
        flows=_flows(regions, flows),
    )
    if with_buyers:
        view.buyers = _buyers(by_buyer)
    return view


def hub_view(view: NationalView, hub_id: int) -> NationalView:
    """A regional operator's part of the view: its hub's regions, the hub, and
    the buyers homed there (the flows stay whole: they are public)."""
    regions = [row for row in view.regions if row.subject.hub_id == hub_id]
    return NationalView(
        since=view.since,
        regions=regions,
        hubs=[row for row in view.hubs if row.subject.pk == hub_id],
        total=_sum(row.tally for row in regions),
        flows=view.flows,
        buyers=[b for b in view.buyers if b.subject.home_region.hub_id == hub_id],
    )


def _carbon(tally: Tally, kg: Decimal | None) -> None:
    if kg is None:
        tally.carbon_unknown += 1
    else:
        tally.carbon_kg += kg


def _listed(instruments: QuerySet[Instrument]):
    rows = Order.objects.filter(
        side=Order.Side.SELL, instrument__in=instruments
    ).values_list("region_id", "filled_quantity", "remaining_quantity")
    for region_id, filled, remaining in rows.iterator():
        yield region_id, filled + remaining


@dataclass(frozen=True, slots=True)
class TradeFacts:
    quantity: Decimal
    price: Decimal
    all_in_price: Decimal
    sell_region: int
    buy_region: int
    buyer: int
    delivered: Decimal | None  # known (reported or set by an operator), else None
    kg: Decimal | None


FACTS = ("price", "all_in_price", "sell_region_id", "buy_region_id", "buyer_id")


def _trades(instruments: QuerySet[Instrument]) -> list[TradeFacts]:
    """Every trade of the scope with its carbon, in one query."""
    trades = with_carbon_inputs(Trade.objects.filter(instrument__in=instruments))
    rows = list(trades.values_list(*FACTS, *CARBON_FIELDS).iterator())
    width = len(FACTS)
    carbon = carbon_rows(row[width:] for row in rows)
    out = []
    for row, c in zip(rows, carbon, strict=True):
        price, all_in_price, sell_region, buy_region, buyer = row[:width]
        _pk, quantity, delivered_known = row[width : width + 3]
        out.append(
            TradeFacts(
                quantity=quantity,
                price=price,
                all_in_price=all_in_price,
                sell_region=sell_region,
                buy_region=buy_region,
                buyer=buyer,
                delivered=delivered_known,
                kg=c.kg,
            )
        )
    return out


def _sum(tallies) -> Tally:
    total = Tally()
    for tally in tallies:
        total.add(tally)
    return total


def _hubs(regions: list[Region], by_region: dict[int, Tally]) -> list[Row]:
    hubs: dict[int, Hub] = {}
    tallies: dict[int, Tally] = defaultdict(Tally)
    for region in regions:
        hubs[region.hub_id] = region.hub
        tallies[region.hub_id].add(by_region[region.pk])
    return [Row(hubs[h], tallies[h]) for h in sorted(hubs, key=lambda h: hubs[h].code)]


def _flows(regions: list[Region], cells: dict[tuple[int, int], Decimal]) -> Flows:
    by_id = {r.pk: r for r in regions}
    buy_totals: dict[int, Decimal] = defaultdict(lambda: ZERO_QTY)
    sell_totals: dict[int, Decimal] = defaultdict(lambda: ZERO_QTY)
    east_to_west = ZERO_QTY
    for (buy, sell), quantity in cells.items():
        buy_totals[buy] += quantity
        sell_totals[sell] += quantity
        if (
            by_id[buy].role == Region.Role.EAST_DEMAND
            and by_id[sell].role == Region.Role.WEST_SUPPLY
        ):
            east_to_west += quantity
    return Flows(
        buy_regions=[by_id[i] for i in sorted(buy_totals, key=lambda i: by_id[i].code)],
        sell_regions=[
            by_id[i] for i in sorted(sell_totals, key=lambda i: by_id[i].code)
        ],
        cells=dict(cells),
        buy_totals=dict(buy_totals),
        sell_totals=dict(sell_totals),
        total=sum(buy_totals.values(), ZERO_QTY),
        east_to_west=east_to_west,
    )


def _buyers(by_buyer: dict[int, Tally]) -> list[Row]:
    people = Participant.objects.select_related("home_region").in_bulk(list(by_buyer))
    order = sorted(by_buyer, key=lambda pk: (-by_buyer[pk].bought, people[pk].pk))
    return [Row(people[pk], by_buyer[pk]) for pk in order]
