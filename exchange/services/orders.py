"""Cancel, cancel-all and amend: each takes the instrument's lock, asks the engine,
and persists its events through a `Command`. An amend that loses priority meets the
rules placement applies (`rules`, `capacity`, settlement's `Funds`) again, and a
sell then takes its cluster's verified attributes and its provider's score as they
are now (`sellers`)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from core.db import read_now, row_copy
from exchange import codec
from exchange.entry import run_durable
from exchange.exceptions import InvalidOrder, NotFound, OrderNotOpen
from exchange.locks import instrument_for_update
from exchange.models import Instrument, Order, Trade
from exchange.monitoring.observe import trades_committed
from exchange.services import capacity, rules, sellers
from exchange.services.command import command_run
from market.models import Participant
from market.persistence import regions_suspended_read
from settlement import interface as settlement


@dataclass(frozen=True)
class Amended:
    order: Order
    fills: list[Trade]


def order_get(*, participant: Participant, order_id: int) -> Order:
    """The participant's own order; another's is NotFound (no hint it exists)."""
    order = Order.objects.filter(pk=order_id, participant=participant).first()
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return order


def order_cancel(*, participant: Participant, order_id: int) -> Order:
    """Entry point: cancel an open order and release its hold or bond."""
    return run_durable(
        do_order_cancel, participant=participant, order_id=order_id, now=timezone.now()
    )


def do_order_cancel(
    *,
    participant: Participant,
    order_id: int,
    now: datetime,
    caused_by_id: int | None = None,
) -> Order:
    """Inside the caller's transaction: lock the instrument and cancel the order.
    `caused_by_id`: the operator's user when an operator cancels (the events then
    name the operator, not the participant)."""
    order = order_get(participant=participant, order_id=order_id)
    instrument = instrument_for_update(order.instrument_id)
    order.refresh_from_db()
    if not order.is_open:
        raise OrderNotOpen(f"Order {order_id} is {order.status}.")
    command_run(
        instrument,
        now,
        lambda book: book.cancel(order.pk, codec.instant(now)),
        caused_by_id=caused_by_id or participant.user_id,
        orders={order.pk: order},
    )
    if order.status == Order.Status.EXPIRED:
        raise OrderNotOpen(f"Order {order_id} had expired.")
    return order


def orders_cancel_all(
    *, participant: Participant, instrument: str | None = None, side: str | None = None
) -> list[int]:
    """Entry point: cancel the participant's open orders, one transaction per
    instrument. Returns the ids cancelled."""
    open_orders = Order.objects.filter(
        participant=participant, status__in=Order.OPEN_STATUSES
    )
    if instrument is not None:
        open_orders = open_orders.filter(instrument__symbol=instrument)
    if side is not None:
        open_orders = open_orders.filter(side=side)
    cancelled: list[int] = []
    for instrument_id in sorted(
        set(open_orders.values_list("instrument_id", flat=True))
    ):
        cancelled += run_durable(
            _cancel_all_in,
            participant=participant,
            instrument_id=instrument_id,
            side=side,
            now=timezone.now(),
        )
    return sorted(cancelled)


def _cancel_all_in(
    *, participant: Participant, instrument_id: int, side: str | None, now: datetime
) -> list[int]:
    instrument = instrument_for_update(instrument_id)
    engine_side = None if side is None else codec.SIDES[side]
    command = command_run(
        instrument,
        now,
        lambda book: book.cancel_all(participant.pk, codec.instant(now), engine_side),
        caused_by_id=participant.user_id,
    )
    return [
        o.pk
        for o in command.orders.values()
        if o.status == Order.Status.CANCELLED and o.participant_id == participant.pk
    ]


def order_amend(
    *,
    participant: Participant,
    order_id: int,
    price: Decimal | None = None,
    quantity: Decimal | None = None,
) -> Amended:
    """Entry point: amend a resting limit order. `quantity` is the new total (> what
    is filled). A new price or a larger quantity loses priority and is checked again
    (band, hold, bond, capacity, post-only); it may then trade as a taker."""
    if price is None and quantity is None:
        raise InvalidOrder(
            "Send a new price, a new quantity, or both.",
            fields={"price": ["Nothing to amend."]},
        )
    amended = run_durable(
        _amend,
        participant=participant,
        order_id=order_id,
        price=price,
        quantity=quantity,
        now=timezone.now(),
    )
    trades_committed(amended.fills)
    return amended


def _amend(*, participant, order_id, price, quantity, now) -> Amended:
    order = order_get(participant=participant, order_id=order_id)
    instrument = instrument_for_update(order.instrument_id)
    order.refresh_from_db()
    if not order.is_open or order.type != Order.Type.LIMIT:
        raise OrderNotOpen(f"Order {order_id} is not a resting limit order.")
    rules.check_open(instrument, now)
    amended = _amended(order, price, quantity, instrument)
    _check_amend(order, amended, instrument)
    ticks = codec.steps(amended.price, instrument.tick_size, "price")
    lots = codec.steps(amended.remaining_quantity, instrument.lot_size, "quantity")
    attributes = _new_place_attributes(order, amended)
    command = command_run(
        instrument,
        now,
        lambda book: book.amend(
            order.pk,
            codec.instant(now),
            price=ticks,
            remaining=lots,
            attributes=attributes,
        ),
        caused_by_id=participant.user_id,
        orders={order.pk: order},
    )
    if order.status == Order.Status.EXPIRED:
        raise OrderNotOpen(f"Order {order_id} had expired.")
    return Amended(order, command.trades)


def _new_place_attributes(order: Order, amended: Order):
    """A sell that loses its place takes its attributes anew (None: a buy, or an
    amend that keeps the place)."""
    keeps = (
        amended.price == order.price
        and amended.remaining_quantity <= order.remaining_quantity
    )
    if order.side != Order.Side.SELL or keeps:
        return None
    sellers.Sellers.read(amended).stamp(amended)
    return sellers.attributes(amended)


def _amended(
    order: Order,
    price: Decimal | None,
    quantity: Decimal | None,
    instrument: Instrument,
) -> Order:
    """The order as the amend would leave it (a copy: the engine decides), on the
    instrument's grid."""
    amended = row_copy(order)
    amended.price = order.price if price is None else price
    amended.quantity = order.quantity if quantity is None else quantity
    codec.steps(amended.price, instrument.tick_size, "price")
    codec.steps(amended.quantity, instrument.lot_size, "quantity")
    if amended.quantity <= order.filled_quantity:
        raise InvalidOrder(
            f"The new quantity must exceed what is filled ({order.filled_quantity}).",
            fields={"quantity": ["Must exceed the filled quantity."]},
        )
    amended.remaining_quantity = amended.quantity - order.filled_quantity
    return amended


def _check_amend(order: Order, amended: Order, instrument: Instrument) -> None:
    """Placement's rules for what the amend changes: the band for a new price,
    capacity for a larger sell, funds for a larger hold or bond, and an amend that
    loses its place is refused from a suspended region as a new order would be.
    Caller holds the instrument's lock; this takes the cluster's."""
    loses_place = (
        amended.price != order.price
        or amended.remaining_quantity > order.remaining_quantity
    )
    if loses_place:
        rules.check_region(amended, read_now(regions_suspended_read()))
    if amended.price != order.price:
        rules.check_price(amended, instrument, amended.price)
    if order.side == Order.Side.SELL and amended.quantity > order.quantity:
        tally = capacity.Tally.read({order.cluster_id}, {instrument.symbol})
        tally.check(amended, instrument, replacing=order.committed_chips)
    extra = rules.order_need(amended, instrument) - rules.order_need(order, instrument)
    if extra > 0:
        snapshot = settlement.LedgerSnapshot.read({order.participant_id})
        funds = settlement.Funds(snapshot.available())
        funds.check(
            participant_id=order.participant_id,
            amount=extra,
            need=f"{extra} CNY more",
        )
