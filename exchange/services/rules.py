"""The rules an order meets under its instrument's lock, shared by placement and
amend: the instrument is open, prices and quantities are on its grid and in its band
(a market order gets its protection price), what the order must set aside, and the
engine's own refusals as domain errors. Capacity is `capacity`'s; whether money fits
is settlement's."""

from datetime import datetime
from decimal import Decimal

from exchange import codec, engine
from exchange.exceptions import (
    FokNotFillable,
    InstrumentNotOpen,
    InvalidOrder,
    OrderNotOpen,
    PostOnlyWouldCross,
    RegionSuspended,
)
from exchange.models import Instrument, Order
from exchange.services import bands
from settlement import interface as settlement


def check_open(instrument: Instrument, now: datetime) -> None:
    """Orders are accepted only while the instrument is open and before its gate."""
    if instrument.state != Instrument.State.OPEN or now >= instrument.gate_closure_at:
        raise InstrumentNotOpen(f"{instrument.symbol} is {instrument.state}.")


def check_region(order: Order, suspended: dict[int, str]) -> None:
    """No sell from a suspended region's clusters, no buy whose origin is there
    (other buys trade on: the region's sells were cancelled when it was suspended)."""
    reason = suspended.get(order.region_id)
    if reason is not None:
        sell = order.side == Order.Side.SELL
        where = "its cluster's region" if sell else "its origin"
        raise RegionSuspended(
            f"Trading in {where} is suspended by the operators: {reason}",
            fields={"region": [reason]},
        )


def check_terms(order: Order, instrument: Instrument) -> None:
    """The quantity on the lot grid; a limit price on the tick grid and in the
    band, or a market order's protection price (set on the order)."""
    codec.steps(order.quantity, instrument.lot_size, "quantity")
    if order.type == Order.Type.MARKET:
        order.price = bands.protection_price(
            instrument, order.side, order.limit_price, order.region
        )
    else:
        check_price(order, instrument, order.price)


def check_price(order: Order, instrument: Instrument, price: Decimal) -> None:
    """A limit price for `order`: on the tick grid and in the band."""
    codec.steps(price, instrument.tick_size, "price")
    bands.band_check(instrument, order.side, price, order.region)


def order_need(order: Order, instrument: Instrument) -> Decimal:
    """What an open order's remaining quantity must have set aside (settlement's
    rule: a buy's hold, a sell's bond)."""
    return settlement.order_need(
        side=order.side,
        quantity=order.remaining_quantity,
        price=order.price,
        maker_bps=instrument.maker_fee_bps,
        taker_bps=instrument.taker_fee_bps,
        bond_rate=instrument.bond_rate,
    )


def need_text(order: Order, need: Decimal) -> str:
    """What the order needs, in a refusal's words."""
    what = "hold" if order.side == Order.Side.BUY else "bond"
    return f"a {what} of {need} CNY"


def check_not_rejected(events: list[engine.Event]) -> None:
    """Raise the domain error of an engine command it refused (nothing changed)."""
    if len(events) == 1 and isinstance(events[0], engine.Rejected):
        code = events[0].code
        raise {
            engine.RejectCode.FOK_NOT_FILLABLE: FokNotFillable,
            engine.RejectCode.POST_ONLY_WOULD_CROSS: PostOnlyWouldCross,
            engine.RejectCode.ORDER_NOT_OPEN: OrderNotOpen,
        }.get(code, InvalidOrder)(f"The engine refused the command ({code}).")
