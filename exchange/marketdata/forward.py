"""The forward curve of a workload profile: one point per listed instrument (days and
blocks, never operator specials) whose window ends today or later, in delivery order
(by start, a day before the blocks that start with it). Its point follows DESIGN.md
("Products in time"):

- closed (gate passed): the settlement price, the volume-weighted site price of its
  trades fixed at the gate (`settlement`; `none` if it never traded);
- else the last traded price, if it traded in the last 24 hours (`last`);
- else the book's mid, (best bid + best ask) / 2, if both sides rest (`mid`);
- else no point (`none`).
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from exchange.marketdata.bars import SHANGHAI
from exchange.marketdata.candles import trade_figures
from exchange.models import Instrument, Trade
from market.models import WorkloadProfile

LAST_PRICE_FRESH = timedelta(hours=24)
CLOSED = (Instrument.State.CLOSED, Instrument.State.SETTLED)


@dataclass(frozen=True, slots=True)
class ForwardPoint:
    symbol: str
    product: str
    block: str | None
    delivery_start: datetime
    delivery_end: datetime
    state: str
    last_price: Decimal | None
    mid: Decimal | None
    settlement_price: Decimal | None
    volume: Decimal
    price: Decimal | None
    basis: str


def point(
    instrument: Instrument, last_trade_at: datetime | None, now: datetime
) -> tuple[Decimal | None, str]:
    """(price, basis) of one instrument by the rule above."""
    if instrument.state in CLOSED:
        price = instrument.settlement_price
        return price, "settlement" if price is not None else "none"
    if (
        instrument.last_price is not None
        and last_trade_at is not None
        and now - last_trade_at <= LAST_PRICE_FRESH
    ):
        return instrument.last_price, "last"
    mid = mid_of(instrument)
    if mid is not None:
        return mid, "mid"
    return None, "none"


def mid_of(instrument: Instrument) -> Decimal | None:
    if instrument.best_bid is None or instrument.best_ask is None:
        return None
    return (instrument.best_bid + instrument.best_ask) / 2


def forward_curve(
    *, profile: WorkloadProfile, now: datetime | None = None
) -> list[ForwardPoint]:
    now = now or timezone.now()
    today = datetime.combine(now.astimezone(SHANGHAI).date(), time(0), SHANGHAI)
    instruments = list(
        Instrument.objects.filter(
            profile=profile,
            product__in=Instrument.LISTED_PRODUCTS,
            delivery_end__gt=today,
        ).order_by("delivery_start", "-delivery_end", "symbol")
    )
    figures = trade_figures(instruments)
    last_at = dict(
        Trade.objects.filter(instrument__in=instruments)
        .values("instrument_id")
        .annotate(at=Max("executed_at"))
        .values_list("instrument_id", "at")
        .order_by()
    )
    out = []
    for inst in instruments:
        price, basis = point(inst, last_at.get(inst.pk), now)
        out.append(
            ForwardPoint(
                symbol=inst.symbol,
                product=inst.product,
                block=inst.block,
                delivery_start=inst.delivery_start,
                delivery_end=inst.delivery_end,
                state=inst.state,
                last_price=inst.last_price,
                mid=mid_of(inst),
                settlement_price=inst.settlement_price,
                volume=figures[inst.pk].volume,
                price=price,
                basis=basis,
            )
        )
    return out
