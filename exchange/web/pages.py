"""What the public market pages show: the overview of open instruments (last price,
change, volume, VWAP, best bid and ask, the index per profile, and the locational
prices into the viewer's region, on a map), and an instrument's page (depth with
all-in prices for a region, recent trades, candles). Reads through exchange.selectors
and exchange.marketdata; the few aggregates they lack are here."""

from dataclasses import asdict, dataclass
from decimal import Decimal

from django.http import QueryDict
from django.utils import timezone

from exchange import eligibility, selectors
from exchange.marketdata import candles, index
from exchange.marketdata import locational as locational_data
from exchange.models import Instrument, Order, Trade
from exchange.services import bands
from exchange.web.forms import OrderTicketForm, ViewerForm
from market import regionmap
from market import selectors as market_selectors
from market.models import ChipModel, Participant, Region
from market.pages import PROFILE_ORDER

DEFAULT_REGION = "CITY-SH"
DEFAULT_PROFILE = "train"
BOOK_DEPTH = 15
RECENT_TRADES = 30
CANDLE_LIMIT = 500
CHART_INTERVALS = ("1m", "1h", "1d")


@dataclass
class InstrumentRow:
    instrument: Instrument
    volume: Decimal
    trades: int
    base_price: Decimal | None  # the opening price, else the first trade's
    vwap: Decimal | None = None

    @property
    def change_pct(self) -> Decimal | None:
        last, base = self.instrument.last_price, self.base_price
        if last is None or not base:
            return None
        return ((last - base) / base * 100).quantize(Decimal("0.01"))


def profiles_ordered():
    rank = {code: i for i, code in enumerate(PROFILE_ORDER)}
    return sorted(
        market_selectors.profile_list(),
        key=lambda p: (rank.get(p.code, len(rank)), p.code),
    )


def viewer(
    params: QueryDict, participant: Participant | None, regions: list[Region]
) -> tuple[ViewerForm, Region, str]:
    """The region and profile the page is seen from: the query, else the
    participant's home region, else Shanghai (and training)."""
    home = participant.home_region.code if participant else DEFAULT_REGION
    form = ViewerForm(
        {
            "region": params.get("region") or home,
            "profile": params.get("profile") or DEFAULT_PROFILE,
        },
        regions=regions,
        profiles=profiles_ordered(),
    )
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    by_code = {r.code: r for r in regions}
    region = by_code.get(data.get("region") or home) or by_code[DEFAULT_REGION]
    return form, region, data.get("profile") or DEFAULT_PROFILE


def instrument_rows(instruments: list[Instrument]) -> list[InstrumentRow]:
    figures = candles.trade_figures(instruments)
    return [
        InstrumentRow(
            instrument=inst,
            volume=figures[inst.pk].volume,
            trades=figures[inst.pk].trades,
            base_price=inst.opening_price or figures[inst.pk].first_price,
            vwap=figures[inst.pk].vwap,
        )
        for inst in instruments
    ]


def markets_context(*, params: QueryDict, participant: Participant | None) -> dict:
    regions = list(market_selectors.region_list())
    form, region, profile = viewer(params, participant, regions)
    instruments = list(
        selectors.instrument_list().filter(
            state__in=[Instrument.State.OPEN, Instrument.State.HALTED]
        )
    )
    rank = {code: i for i, code in enumerate(PROFILE_ORDER)}
    instruments.sort(key=lambda i: (i.delivery_start, rank.get(i.profile.code, 99)))
    return {
        "form": form,
        "region": region,
        "rows": instrument_rows(instruments),
        "indices": _indices(),
        "locational": locational(instruments, profile, region, regions),
    }


def _indices() -> list[dict]:
    out = []
    for profile in profiles_ordered():
        series = index.index_series(profile=profile, days=2)
        if series:
            previous = series[1].index if len(series) > 1 else None
            out.append({"profile": profile, **asdict(series[0]), "previous": previous})
    return out


def locational(
    instruments: list[Instrument], profile: str, region: Region, regions: list[Region]
) -> dict | None:
    """The next open instrument of `profile`: per region, the best all-in price a
    buyer there would pay now, and the verdict for `region`."""
    instrument = next(
        (
            i
            for i in instruments
            if i.profile.code == profile and i.state == Instrument.State.OPEN
        ),
        None,
    )
    if instrument is None:
        return None
    by_code = {r.code: r for r in regions}
    rows = [
        {
            **row,
            "region_obj": by_code[row["region"]],
            "source": by_code.get(row["source_region"] or ""),
        }
        for row in locational_data.locational_prices(instrument=instrument)
    ]
    mine = next((r for r in rows if r["region"] == region.code), None)
    return {
        "instrument": instrument,
        "rows": rows,
        "mine": mine,
        "map": price_map(rows, regions),
    }


def price_map(rows: list[dict], regions: list[Region]) -> dict:
    """The regions map coloured by locational price (cheapest green, dearest red)."""
    colours = locational_data.price_colours(rows)
    by_code = {r["region"]: r for r in rows}
    points = [regionmap.Point(r.code, r.lat, r.lon) for r in regions]
    markers = regionmap.place_markers(points, colours)
    return {
        "markers": [{"marker": m, "row": by_code.get(m.code)} for m in markers],
        "legend": locational_data.PRICE_COLOURS,
        "no_price": locational_data.NO_PRICE_COLOUR,
        "view_box": _view_box(markers),
        "radius": regionmap.MARKER_RADIUS,
        "hu_line": regionmap.hu_line(),
    }


def _view_box(markers: list[regionmap.Marker], margin: float = 90.0) -> str:
    """The part of the canvas the regions occupy (their labels included)."""
    if not markers:
        return f"0 0 {regionmap.WIDTH} {regionmap.HEIGHT}"
    xs = [x for m in markers for x in (m.x, m.label_x)]
    ys = [y for m in markers for y in (m.y, m.label_y)]
    left, top = max(min(xs) - margin, 0), max(min(ys) - margin / 2, 0)
    width = min(max(xs) + margin, regionmap.WIDTH) - left
    height = min(max(ys) + margin / 2, regionmap.HEIGHT) - top
    return f"{left:.0f} {top:.0f} {width:.0f} {height:.0f}"


# --- the instrument page -------------------------------------------------------------
def instrument_context(
    *, instrument: Instrument, params: QueryDict, participant: Participant | None
) -> dict:
    regions = list(market_selectors.region_list())
    form, region, _profile = viewer(params, participant, regions)
    [row] = instrument_rows([instrument])
    return {
        "instrument": instrument,
        "stats": row,
        "form": form,
        "region": region,
        "book": book_context(instrument, region, regions),
        "trades": recent_trades(instrument),
        "band": bands.band(instrument),
        "intervals": CHART_INTERVALS,
        "is_open": is_open(instrument),
    }


def is_open(instrument: Instrument) -> bool:
    return (
        instrument.state == Instrument.State.OPEN
        and timezone.now() < instrument.gate_closure_at
    )


def book_context(
    instrument: Instrument,
    region: Region,
    regions: list[Region],
    constraints: dict | None = None,
) -> dict:
    """The depth table into `region`; with a buyer's `constraints` (as an order
    stores them), each ask row says which of them rule it out."""
    book = selectors.order_book_get(
        instrument=instrument, depth=BOOK_DEPTH, region=region
    )
    by_code = {r.code: r for r in regions}
    for row in book["asks"] + book["bids"]:
        row["region_obj"] = by_code.get(row["region"])
        if "all_in_price" in row:
            row["surcharge"] = row["all_in_price"] - row["price"]
    chips = {c.code: c for c in ChipModel.objects.all()}
    for row in book["asks"]:
        row["chip_obj"] = chips.get(row["chip"])
    if constraints:
        _explain_asks(instrument, region, book["asks"], constraints, chips)
    return {
        "asks": book["asks"],
        "bids": book["bids"],
        "region": region,
        "instrument": instrument,
        "constraints": constraints or {},
    }


def _explain_asks(instrument, region, asks, constraints, chips) -> None:
    """Each ask row's reasons (in plain words) not to trade with such a buy."""
    judge = eligibility.book_judge(instrument, constraints, region)
    for row in asks:
        rules = judge(row)
        group = eligibility.row_group(row, chips[row["chip"]], rules)
        row["reasons"] = eligibility.reason_texts(group, constraints)


def trades_context(*, instrument: Instrument, participant: Participant | None) -> dict:
    """What the polled trade list refreshes: the trades, the header figures and
    the participant's open orders on the instrument."""
    [stats] = instrument_rows([instrument])
    context = {
        "instrument": instrument,
        "trades": recent_trades(instrument),
        "stats": stats,
        "band": bands.band(instrument),
        "oob": True,
    }
    if participant is not None:
        context["my_orders"] = my_open_orders(instrument, participant)
    return context


def tickets_context(
    instrument: Instrument,
    participant: Participant | None,
    bound: OrderTicketForm | None = None,
) -> dict:
    """The buy and sell tickets this participant may use (none for visitors);
    `bound` is a submitted ticket shown again with its errors."""
    if participant is None:
        return {}
    clusters = list(selectors.cluster_list(participant=participant))
    out = {
        "clusters": clusters,
        "my_orders": my_open_orders(instrument, participant),
        "active_side": bound.side
        if bound is not None
        else ("buy" if participant.is_buyer else "sell"),
    }
    for side, allowed in (
        ("buy", participant.is_buyer),
        ("sell", participant.is_seller),
    ):
        if not allowed:
            continue
        if bound is not None and bound.side == side:
            out[f"{side}_form"] = bound
        else:
            out[f"{side}_form"] = OrderTicketForm(
                side=side,
                instrument=instrument,
                participant=participant,
                clusters=clusters,
            )
    return out


def my_open_orders(instrument: Instrument, participant: Participant) -> list[Order]:
    orders = selectors.order_list(participant=participant, instrument=instrument.symbol)
    return list(orders.filter(status__in=Order.OPEN_STATUSES)[:20])


def recent_trades(instrument: Instrument) -> list[Trade]:
    return list(
        selectors.trade_list(instrument=instrument).order_by("-pk")[:RECENT_TRADES]
    )


def candles_payload(*, instrument: Instrument, interval: str) -> dict:
    """OHLCV oldest first, for the chart: times as Unix seconds, decimals as
    strings (the page turns them into numbers only to draw them)."""
    if interval not in CHART_INTERVALS:
        interval = CHART_INTERVALS[0]
    rows, _older = candles.candle_list(
        instrument=instrument, interval=interval, limit=CANDLE_LIMIT
    )
    tick, lot = instrument.tick_size, instrument.lot_size
    return {
        "symbol": instrument.symbol,
        "interval": interval,
        "candles": [
            {
                "time": int(c["start"].timestamp()),
                "open": str(Decimal(c["open"]).quantize(tick)),
                "high": str(Decimal(c["high"]).quantize(tick)),
                "low": str(Decimal(c["low"]).quantize(tick)),
                "close": str(Decimal(c["close"]).quantize(tick)),
                "volume": str(Decimal(c["volume"]).quantize(lot)),
            }
            for c in reversed(rows)
        ],
    }
