"""Placing an order: validate, lock the instrument (then the cluster for a sell),
check band, capacity and funds, match in memory, then persist in one transaction."""

import copy
import functools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange import books, codec, engine
from exchange.entry import run_durable
from exchange.exceptions import ClientOrderIdConflict, InstrumentNotOpen
from exchange.locks import cluster_count_for_update, instrument_for_update_by_symbol
from exchange.models import Instrument, Order, Trade
from exchange.monitoring.observe import batch_observed, placement_observed
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
from market.exceptions import DomainError
from market.models import ConversionTable, Participant, SurchargeTable
from settlement.exceptions import InsufficientFunds
from settlement.models import Account


@dataclass(frozen=True)
class Placed:
    order: Order
    fills: list[Trade]
    created: bool  # False: a replay of an earlier request with the same body


def order_place(*, participant: Participant, request: OrderRequest) -> Placed:
    """Entry point: place an order in its own durable transaction (retried on
    deadlock). A refused order writes nothing and uses no sequence number. Counted
    and timed for /metrics; its fills are folded into candles after commit."""
    with placement_observed(side=request.side) as seen:
        seen.placed = _order_place(participant=participant, request=request)
    return seen.placed


def _order_place(*, participant: Participant, request: OrderRequest) -> Placed:
    now = timezone.now()
    check_role(participant, request.side)
    check_combination(request, now)
    replay = _replay(participant, request)
    if replay is not None:
        return replay
    order = _order_row(participant, request)
    _check_funds_early(order, request.instrument)
    try:
        return run_durable(_place, participant=participant, order=order, now=now)
    except IntegrityError:
        # A concurrent duplicate won the client_order_id: answer as its replay.
        replay = _replay(participant, request)
        if replay is None:
            raise
        return replay


def orders_place_batch(
    *, participant: Participant, requests: list[OrderRequest]
) -> list[Placed | DomainError]:
    """Entry point: place orders in the order given, each answered on its own (a
    refusal is returned, not raised). All of them go in one durable transaction that
    locks each instrument once; each order runs in a savepoint, so a refused one
    leaves nothing behind and does not sink the others."""
    now = timezone.now()
    prepared: list[Order | Placed | DomainError] = []
    for request in requests:
        try:
            check_role(participant, request.side)
            check_combination(request, now)
            replay = _replay(participant, request)
            if replay is None:
                order = _order_row(participant, request)
                _check_funds_early(order, request.instrument)
            prepared.append(replay or order)
        except DomainError as exc:
            prepared.append(exc)
    if any(isinstance(p, Order) for p in prepared):
        outcomes = run_durable(
            _place_all, participant=participant, requests=requests, prepared=prepared
        )
    else:
        outcomes = prepared  # type: ignore[assignment]
    batch_observed(requests, outcomes)
    return outcomes


def _place_all(
    *,
    participant: Participant,
    requests: list[OrderRequest],
    prepared: list[Order | Placed | DomainError],
) -> list[Placed | DomainError]:
    now = timezone.now()
    symbols = sorted({p.instrument_symbol for p in prepared if isinstance(p, Order)})
    locked = {  # in primary-key order, like every other multi-instrument lock
        i.symbol: i
        for i in Instrument.objects.select_for_update(of=("self",))
        .select_related("profile", "conversion_table", "surcharge_table")
        .filter(symbol__in=symbols)
        .order_by("pk")
    }
    out: list[Placed | DomainError] = []
    for request, item in zip(requests, prepared, strict=True):
        if not isinstance(item, Order):
            out.append(item)
            continue
        try:
            with transaction.atomic():
                out.append(
                    _place(
                        participant=participant,
                        order=item,
                        now=now,
                        instrument=locked.get(item.instrument_symbol),
                    )
                )
        except DomainError as exc:
            # The savepoint rolled back; the row in memory may have moved on (its
            # book notices on the next checkout and rebuilds): read it again.
            locked.pop(item.instrument_symbol, None)
            out.append(exc)
        except IntegrityError:
            locked.pop(item.instrument_symbol, None)
            try:  # a concurrent duplicate of client_order_id won: answer as its replay
                replay = _replay(participant, request)
            except DomainError as exc:
                replay = exc
            if replay is None:
                raise
            out.append(replay)
    return out


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


def _place(
    *,
    participant: Participant,
    order: Order,
    now: datetime,
    instrument: Instrument | None = None,
) -> Placed:
    """Under the instrument's lock: check, match, persist. `order` is the unsaved row
    built before the lock (references resolved); a retry gets a fresh copy. A batch
    passes the instrument it has locked already."""
    order = copy.copy(order)  # Model.__getstate__ copies its state and caches too
    if instrument is None:
        instrument = instrument_for_update_by_symbol(order.instrument_symbol)
    if instrument.state != Instrument.State.OPEN or now >= instrument.gate_closure_at:
        raise InstrumentNotOpen(f"{instrument.symbol} is {instrument.state}.")
    codec.steps(order.quantity, instrument.lot_size, "quantity")
    if order.type == Order.Type.MARKET:
        order.price = bands.protection_price(
            instrument, order.side, order.limit_price, order.region
        )
    else:
        codec.steps(order.price, instrument.tick_size, "price")
        bands.band_check(instrument, order.side, order.price, order.region)
    if order.side == Order.Side.SELL:
        _check_capacity(order, instrument)
    if not _checked_early(order):
        _check_funds(order, instrument)
    order.instrument = instrument
    order.conversion_version, order.surcharge_version = table_versions(
        instrument.conversion_table_id, instrument.surcharge_table_id
    )
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


def _order_row(participant: Participant, req: OrderRequest) -> Order:
    """The order's row, unsaved, with its references resolved (no lock needed: a
    cluster's region and chip never change, and neither do regions or stacks)."""
    order = Order(
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
    order.instrument_symbol = req.instrument  # not a field: what _place locks
    order.limit_price = req.price  # a market order's protection limit, if any
    return order


def _check_capacity(order: Order, instrument: Instrument) -> None:
    cluster = order.cluster  # chip and region resolved before the lock
    cluster.count = cluster_count_for_update(cluster.pk)  # resizes take this lock
    factor = capacity.factor_for(cluster=cluster, instrument=instrument)
    order.committed_chips = committed_chips(order.quantity, factor, instrument.hours)
    capacity.capacity_check(
        cluster=cluster, instrument=instrument, chips=order.committed_chips
    )


def _check_funds_early(order: Order, symbol: str) -> None:
    """A buy limit that cannot be afforded now is refused before the lock (an
    instrument's fees are fixed once it is listed). The ledger checks again under its
    locks."""
    if not _checked_early(order):
        return
    fees = (
        Instrument.objects.filter(symbol=symbol)
        .values("maker_fee_bps", "taker_fee_bps")
        .first()
    )
    if fees is not None:
        _check_funds(order, Instrument(**fees))  # order_need reads only the fees


def _checked_early(order: Order) -> bool:
    """A buy limit's hold is known before the lock. A market order's depends on the
    reference price, and a sell's capacity is the more useful refusal: those two are
    checked under the lock."""
    return order.side == Order.Side.BUY and order.type == Order.Type.LIMIT


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


@functools.lru_cache(maxsize=1024)
def table_versions(conversion_table_id: int, surcharge_table_id: int) -> tuple:
    """The versions of two published tables (immutable once published)."""
    return (
        ConversionTable.objects.values_list("version", flat=True).get(
            pk=conversion_table_id
        ),
        SurchargeTable.objects.values_list("version", flat=True).get(
            pk=surcharge_table_id
        ),
    )
