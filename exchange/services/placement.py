"""Placing an order: validate, lock the instrument (then the cluster for a sell),
check band, capacity and funds, match in memory, then persist in one transaction."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange import books, codec, engine
from exchange.entry import run_durable
from exchange.exceptions import ClientOrderIdConflict, InstrumentNotOpen
from exchange.locks import cluster_for_update, instrument_for_update_by_symbol
from exchange.models import Instrument, Order, Trade
from exchange.services import bands, capacity
from exchange.services.apply import (
    Command,
    committed_chips,
    order_need,
    rejection_error,
)
from exchange.services.requests import (
    OrderRequest,
    buy_origin,
    check_combination,
    check_role,
    constraints_resolve,
    sell_site,
)
from market.models import Participant
from settlement.exceptions import InsufficientFunds
from settlement.models import Account


@dataclass(frozen=True)
class Placed:
    order: Order
    fills: list[Trade]
    created: bool  # False: a replay of an earlier request with the same body


def order_place(*, participant: Participant, request: OrderRequest) -> Placed:
    """Entry point: place an order in its own durable transaction (retried on
    deadlock). A refused order writes nothing and uses no sequence number."""
    now = timezone.now()
    check_role(participant, request.side)
    check_combination(request, now)
    replay = _replay(participant, request)
    if replay is not None:
        return replay
    try:
        return run_durable(_place, participant=participant, request=request, now=now)
    except IntegrityError:
        # A concurrent duplicate won the client_order_id: answer as its replay.
        replay = _replay(participant, request)
        if replay is None:
            raise
        return replay


def _replay(participant: Participant, request: OrderRequest) -> Placed | None:
    if request.client_order_id is None:
        return None
    order = Order.objects.filter(
        participant=participant, client_order_id=request.client_order_id
    ).first()
    if order is None:
        return None
    if order.request_hash != request.digest():
        raise ClientOrderIdConflict(
            f"client_order_id {request.client_order_id!r} was used with another body."
        )
    return Placed(order, placement_fills(order), created=False)


def placement_fills(order: Order) -> list[Trade]:
    """The fills the order's placement produced (not later ones)."""
    side = "buy_order" if order.side == Order.Side.BUY else "sell_order"
    return list(
        Trade.objects.filter(**{side: order}, sequence__lte=order.placed_through or 0)
        .select_related("buy_order", "sell_order")
        .order_by("sequence")
    )


def _place(*, participant: Participant, request: OrderRequest, now: datetime) -> Placed:
    instrument = instrument_for_update_by_symbol(request.instrument)
    order = _order_row(participant, request, instrument)
    if instrument.state != Instrument.State.OPEN or now >= instrument.gate_closure_at:
        raise InstrumentNotOpen(f"{instrument.symbol} is {instrument.state}.")
    codec.steps(request.quantity, instrument.lot_size, "quantity")
    if request.type == Order.Type.MARKET:
        order.price = bands.protection_price(
            instrument, order.side, request.price, order.region
        )
    else:
        codec.steps(order.price, instrument.tick_size, "price")
        bands.band_check(instrument, order.side, order.price, order.region)
    if order.side == Order.Side.SELL:
        _check_capacity(order, instrument)
    _check_funds(order, instrument)
    order.instrument = instrument
    order.conversion_version = instrument.conversion_table.version
    order.surcharge_version = instrument.surcharge_table.version
    book = books.book_checkout(instrument)  # before the new row exists
    if order.client_order_id is None:
        order.save()
    else:
        with transaction.atomic():  # a savepoint: a concurrent duplicate raises here
            order.save()
    events = book.place(_engine_order(order, instrument), codec.instant(now))
    if len(events) == 1 and isinstance(events[0], engine.Rejected):
        raise rejection_error(events[0].code)
    command = Command(
        instrument=instrument, book=book, now=now, caused_by_id=participant.user_id
    )
    command.orders[order.pk] = order
    command.apply(events)
    order.placed_through = book.sequence
    command.finish()
    return Placed(order, command.trades, created=True)


def _order_row(participant: Participant, req: OrderRequest, inst: Instrument) -> Order:
    order = Order(
        instrument=inst,
        participant=participant,
        side=req.side,
        type=req.type,
        time_in_force=req.time_in_force,
        post_only=req.post_only,
        price=req.price,
        quantity=req.quantity,
        remaining_quantity=req.quantity,
        client_order_id=req.client_order_id,
        request_hash=req.digest(),
        expires_at=req.expires_at,
    )
    if req.side == Order.Side.SELL:
        cluster = sell_site(req, participant)
        order.cluster, order.region, order.stack = (
            cluster,
            cluster.region,
            cluster.chip.stack,
        )
    else:
        order.region = buy_origin(req, participant)
        order.constraints = constraints_resolve(req.constraints)
    return order


def _check_capacity(order: Order, instrument: Instrument) -> None:
    cluster = cluster_for_update(order.cluster_id)
    factor = capacity.factor_for(cluster=cluster, instrument=instrument)
    order.committed_chips = committed_chips(order.quantity, factor, instrument.hours)
    capacity.capacity_check(
        cluster=cluster, instrument=instrument, chips=order.committed_chips
    )


def _check_funds(order: Order, instrument: Instrument) -> None:
    """A fast refusal before matching; the ledger checks again under its locks."""
    need = order_need(order, instrument)
    available = Account.objects.filter(
        participant_id=order.participant_id, kind=Account.Kind.AVAILABLE
    ).values_list("balance", flat=True).first() or Decimal(0)
    if need > available:
        what = "hold" if order.side == Order.Side.BUY else "bond"
        raise InsufficientFunds(
            f"This order needs a {what} of {need} CNY; {available} CNY is available."
        )


def _engine_order(order: Order, instrument: Instrument) -> engine.NewOrder:
    buy = order.side == Order.Side.BUY
    return engine.NewOrder(
        order_id=order.pk,
        participant_id=order.participant_id,
        side=codec.SIDES[order.side],
        price=codec.steps(order.price, instrument.tick_size, "price"),
        quantity=codec.steps(order.quantity, instrument.lot_size, "quantity"),
        tif=codec.TIFS[order.time_in_force],
        region=order.region.code,
        stack=None if buy else order.stack.code,
        constraints=codec.constraints_engine(order.constraints) if buy else None,
        post_only=order.post_only,
        market=order.type == Order.Type.MARKET,
        expires_at=codec.instant(order.expires_at),
    )
