"""Reads of the exchange for the API and pages: instruments, the aggregated book,
trades, a participant's orders, fills and clusters.

The book is read from the database (open orders, aggregated), not from the warm
engine books: those are only touched under the instrument's lock, by writers.
"""

from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from exchange.exceptions import NotFound
from exchange.models import Instrument, Order, Trade
from market.models import Cluster, ConversionFactor, Participant, Region, Surcharge

LOT = Decimal("0.1")


def instrument_list(
    *, profile: str | None = None, state: str | None = None
) -> QuerySet[Instrument]:
    instruments = Instrument.objects.select_related(
        "profile", "conversion_table", "surcharge_table"
    ).order_by("delivery_start", "symbol")
    if profile is not None:
        instruments = instruments.filter(profile__code=profile)
    if state is not None:
        instruments = instruments.filter(state=state)
    return instruments


def instrument_get(*, symbol: str) -> Instrument:
    instrument = instrument_list().filter(symbol=symbol).first()
    if instrument is None:
        raise NotFound(f"No instrument {symbol}.")
    return instrument


def resting_orders(instrument: Instrument, side: str) -> QuerySet[Order]:
    """Orders that rest in the book now (an order past its expiry is closed the
    moment the engine meets it, even before the sweeper marks it)."""
    return (
        Order.objects.filter(
            instrument=instrument,
            side=side,
            status__in=Order.OPEN_STATUSES,
            remaining_quantity__gt=0,
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by()
    )


def surcharges_into(instrument: Instrument, region: Region) -> dict[str, Decimal]:
    """s(a, region) of the instrument's frozen table, by sell region code (a region
    without a link is missing)."""
    return dict(
        Surcharge.objects.filter(
            table_id=instrument.surcharge_table_id, buy_region=region
        ).values_list("sell_region__code", "surcharge")
    )


ASK_LEVEL = (
    "price",
    "region__code",
    "stack__code",
    "cluster__chip__code",
    "confidential",
    "certifications",
    "reliability",
)


def order_book_get(
    *,
    instrument: Instrument,
    depth: int,
    region: Region | None = None,
    allow: Callable[[dict], bool] | None = None,
) -> dict:
    """Aggregated levels: asks by (price, region, stack, chip, verified TEE and
    certifications, provider reliability) at the site, bids by (price, origin
    region) all-in. With `region` (a buyer's origin), asks carry the all-in price
    into it, sorted by it; regions without a link to it are left out. `allow`
    keeps only the ask levels it accepts (a buyer's constraints)."""
    asks = (
        resting_orders(instrument, Order.Side.SELL)
        .values(*ASK_LEVEL)
        .annotate(quantity=Sum("remaining_quantity"))
        .order_by(*ASK_LEVEL)
    )
    bids = (
        resting_orders(instrument, Order.Side.BUY)
        .values("price", "region__code")
        .annotate(quantity=Sum("remaining_quantity"))
        .order_by("-price", "region__code")
    )
    filtered = region is not None or allow is not None
    ask_rows = [_ask_row(a) for a in (asks if filtered else asks[:depth])]
    if allow is not None:
        ask_rows = [row for row in ask_rows if allow(row)]
    if region is not None:
        surcharge = surcharges_into(instrument, region)
        ask_rows = [
            {**row, "all_in_price": row["price"] + surcharge[row["region"]]}
            for row in ask_rows
            if row["region"] in surcharge
        ]
        ask_rows.sort(key=lambda r: (r["all_in_price"], r["price"], r["region"]))
    return {
        "instrument": instrument.symbol,
        "sequence": instrument.sequence,
        "region": None if region is None else region.code,
        "asks": ask_rows[:depth],
        "bids": [
            {
                "price": b["price"],
                "quantity": b["quantity"],
                "region": b["region__code"],
            }
            for b in bids[:depth]
        ],
    }


def _ask_row(level: dict) -> dict:
    return {
        "price": level["price"],
        "quantity": level["quantity"],
        "region": level["region__code"],
        "stack": level["stack__code"],
        "chip": level["cluster__chip__code"],
        "confidential": bool(level["confidential"]),
        "certifications": [c for c in level["certifications"].split(",") if c],
        "reliability": level["reliability"],
    }


def trade_list(*, instrument: Instrument) -> QuerySet[Trade]:
    return Trade.objects.filter(instrument=instrument).select_related(
        "sell_region", "buy_region"
    )


def order_list(
    *,
    participant: Participant,
    status: str | None = None,
    instrument: str | None = None,
    client_order_id: str | None = None,
) -> QuerySet[Order]:
    orders = Order.objects.filter(participant=participant).select_related(
        "instrument", "region", "stack", "cluster__chip"
    )
    if status is not None:
        orders = orders.filter(status=status)
    if instrument is not None:
        orders = orders.filter(instrument__symbol=instrument)
    if client_order_id is not None:
        orders = orders.filter(client_order_id=client_order_id)
    return orders.order_by("-pk")


def order_fills(*, order: Order) -> list[Trade]:
    """Every fill of the order so far, oldest first."""
    side = "buy_order" if order.side == Order.Side.BUY else "sell_order"
    return list(
        Trade.objects.filter(**{side: order})
        .select_related("instrument")
        .order_by("sequence")
    )


def fill_list(
    *, participant: Participant, instrument: str | None = None
) -> QuerySet[Trade]:
    trades = Trade.objects.filter(
        Q(buyer=participant) | Q(seller=participant)
    ).select_related("instrument")
    if instrument is not None:
        trades = trades.filter(instrument__symbol=instrument)
    return trades


def fill_view(trade: Trade, participant_id: int) -> dict:
    """A trade as one participant's fill: its own order, side, fee and liquidity."""
    buyer = trade.buyer_id == participant_id
    side = Order.Side.BUY if buyer else Order.Side.SELL
    return {
        "trade_id": trade.pk,
        "order_id": trade.buy_order_id if buyer else trade.sell_order_id,
        "instrument": trade.instrument.symbol,
        "side": side,
        "price": trade.price,
        "surcharge": trade.surcharge,
        "all_in_price": trade.all_in_price,
        "quantity": trade.quantity,
        "fee": trade.buyer_fee if buyer else trade.seller_fee,
        "liquidity": "taker" if trade.aggressor == side else "maker",
        "executed_at": trade.executed_at,
    }


def cluster_list(*, participant: Participant) -> QuerySet[Cluster]:
    return (
        Cluster.objects.filter(participant=participant)
        .select_related("region", "chip__stack")
        .order_by("pk")
    )


def cluster_get(*, participant: Participant, cluster_id: int) -> Cluster:
    """One of the participant's clusters; another's is NotFound."""
    cluster = cluster_list(participant=participant).filter(pk=cluster_id).first()
    if cluster is None:
        raise NotFound(f"No cluster {cluster_id}.")
    return cluster


def cluster_capacities(clusters: list[Cluster]) -> dict[int, list[dict]]:
    """Per cluster, its capacity in each open instrument's window: count x hours x
    the chip's factor for the profile in the instrument's conversion table (rounded
    down to the lot). Instruments of a profile the chip has no factor for are left
    out. Two queries for the whole list."""
    instruments = list(
        instrument_list(state=Instrument.State.OPEN).filter(
            gate_closure_at__gt=timezone.now()
        )
    )
    factors = {
        (table, profile, chip): factor
        for table, profile, chip, factor in ConversionFactor.objects.filter(
            table_id__in={i.conversion_table_id for i in instruments},
            chip_id__in={c.chip_id for c in clusters},
        ).values_list("table_id", "profile_id", "chip_id", "factor")
    }
    out: dict[int, list[dict]] = {}
    for cluster in clusters:
        rows = out.setdefault(cluster.pk, [])
        for inst in instruments:
            factor = factors.get(
                (inst.conversion_table_id, inst.profile_id, cluster.chip_id)
            )
            if factor is None:
                continue
            scu_h = factor * cluster.sellable_count * inst.hours
            rows.append(
                {
                    "instrument": inst.symbol,
                    "profile": inst.profile.code,
                    "delivery_start": inst.delivery_start,
                    "delivery_end": inst.delivery_end,
                    "factor": factor,
                    "scu_h": scu_h.quantize(LOT, ROUND_FLOOR),
                    "hours": inst.hours,
                }
            )
    return out
