"""Placing an order: validate, lock the instrument (then the cluster for a sell),
check band, capacity and funds, match in memory, then persist in one transaction."""

import dataclasses
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange import books, codec, engine
from exchange.entry import run_durable
from exchange.exceptions import ClientOrderIdConflict, InstrumentNotOpen
from exchange.locks import (
    cluster_count_for_update,
    clusters_count_read,
    instruments_for_update_by_symbol,
    instruments_for_update_read,
    missing_cluster,
    unknown_instrument,
)
from exchange.models import Instrument, Order, Trade
from exchange.monitoring.observe import batch_observed, placement_observed
from exchange.services import bands, capacity
from exchange.services.apply import (
    Command,
    committed_chips,
    order_need,
    rejection_error,
)
from exchange.services.group import group_commit
from exchange.services.requests import (
    OrderRequest,
    buy_origin,
    check_combination,
    check_role,
    constraints_resolve,
    sell_site,
)
from market.db import Read, ids_read, ids_reserve, reads_together, row_copy, unsaved
from market.exceptions import DomainError
from market.models import ConversionTable, Participant, SurchargeTable
from settlement.exceptions import InsufficientFunds
from settlement.ledger import accounts_read, decimal_from_db, snapshot_overdrawn
from settlement.models import Account, JournalEntry


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
    entry = _Entry(participant, request, _order_row(participant, request))
    try:
        [placed] = group_commit(request.instrument, [entry], _place_groups)
    except IntegrityError:
        # A concurrent duplicate won the client_order_id: answer as its replay.
        replay = _replay(participant, request)
        if replay is None:
            raise
        return replay
    if isinstance(placed, DomainError):
        raise placed
    return placed


def orders_place_batch(
    *, participant: Participant, requests: list[OrderRequest]
) -> list[Placed | DomainError]:
    """Entry point: place orders in the order given, each answered on its own (a
    refusal is returned, not raised), all in one durable transaction that locks each
    instrument once (see `_place_durably`). A batch on one instrument is committed
    with whatever else this process has queued on it by then (group commit)."""
    now = timezone.now()
    entries = []
    for request in requests:
        try:
            check_role(participant, request.side)
            check_combination(request, now)
            item = _replay(participant, request) or _order_row(participant, request)
        except DomainError as exc:
            item = exc
        entries.append(_Entry(participant, request, item))
    symbols = {e.item.instrument_symbol for e in entries if isinstance(e.item, Order)}
    if len(symbols) == 1:
        outcomes = group_commit(symbols.pop(), entries, _place_groups)
    elif symbols:
        outcomes = _place_durably(entries)
    else:
        outcomes = [e.item for e in entries]  # type: ignore[misc]
    batch_observed(requests, outcomes)
    return outcomes


@dataclass(slots=True)
class _Entry:
    """One order to place: by whom, as asked, and its unsaved row (or its answer
    already: a replay, or a refusal before the lock)."""

    participant: Participant
    request: OrderRequest
    item: Order | Placed | DomainError


def _place_groups(
    requests: list[list[_Entry]],
) -> list[list[Placed | DomainError]]:
    """Requests (single orders and batches) queued on one instrument, placed together
    in one durable transaction; each request's outcomes in its own order."""
    every = [entry for entries in requests for entry in entries]
    outcomes = iter(_place_durably(every))
    return [[next(outcomes) for _entry in entries] for entries in requests]


class _Inexact(Exception):
    """The bulk placement cannot decide a batch exactly: place it order by order."""


def _place_durably(entries: list[_Entry]) -> list[Placed | DomainError]:
    """Place orders (a batch, or concurrent single orders committed as a group) in
    a durable transaction of their own.

    They are placed as one command per instrument (`_place_bulk`): every check runs
    before an order touches the book, so a refused order leaves nothing behind, and
    the rows, the event log and the ledger are written once for all of them. Funds
    are checked against a running total of what each participant's orders set
    aside, which can only overstate what they use; when that total refuses an order,
    or the ledger or a repeated client_order_id refuses the whole, that transaction
    rolls back, and the orders are placed again one by one in another, each in a
    savepoint, with the exact checks (`_place_each`). (A savepoint around the bulk
    placement instead would cost every group two round trips under the lock.)"""
    try:
        return run_durable(_place_bulk, entries)
    except _Inexact:
        return run_durable(_place_exact, entries)


def _place_exact(entries: list[_Entry]) -> list[Placed | DomainError]:
    return _place_each([_funds_checked(entry) for entry in entries])


def _funds_checked(entry: _Entry) -> _Entry:
    """The entry, or its refusal when a buy limit cannot be afforded as it stands."""
    if isinstance(entry.item, Order):
        try:
            _check_funds_early(entry.item, entry.item.instrument_symbol)
        except DomainError as exc:
            return dataclasses.replace(entry, item=exc)
    return entry


@dataclass
class _Tally:
    """What a bulk placement has committed so far, beyond what the database shows."""

    available: dict[int, Decimal]  # participant id -> available balance
    set_aside: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # What the database showed under the clusters' locks, read with the instruments':
    # cluster id -> its chip count (a deleted cluster is missing), and
    # (cluster id, instrument symbol) -> what the cluster commits in that window.
    cluster_counts: dict[int, int] = field(default_factory=dict)
    written: dict[tuple[int, str], list[capacity.Commitment]] = field(
        default_factory=dict
    )
    # cluster id -> what this batch's sells commit
    chips: dict[int, list[capacity.Commitment]] = field(
        default_factory=lambda: defaultdict(list)
    )


def _place_bulk(entries: list[_Entry]) -> list[Placed | DomainError]:
    now = timezone.now()
    new = [e for e in entries if isinstance(e.item, Order)]
    symbols = {e.item.instrument_symbol for e in new}
    # One round trip on PostgreSQL: the lock, then under it the order keys, the
    # balances and the events the warm books missed.
    # The sells' clusters are locked after the instruments, in key order, with what
    # they already commit in each instrument's window.
    clusters = {e.item.cluster_id for e in new if e.item.side == Order.Side.SELL}
    capacity_reads = (
        [
            clusters_count_read(clusters),
            capacity.commitments_by_symbol_read(clusters, symbols),
        ]
        if clusters
        else []
    )
    catch_up = {s: r for s in sorted(symbols) if (r := books.missed_read(s))}
    # The participants' accounts are a snapshot for the ledger too (Batch.snapshot),
    # with a journal entry key per order (a resting order's hold): a group of
    # resting orders then locks its accounts with its writes.
    locked, ids, snapshot, entry_ids, *rest = reads_together(
        instruments_for_update_read(symbols),
        ids_read(Order, len(new)),
        accounts_read({e.participant.pk for e in new}),
        ids_read(JournalEntry, len(new)),
        *capacity_reads,
        *catch_up.values(),
    )
    counts, written = (rest.pop(0), rest.pop(0)) if clusters else ({}, {})
    missed = dict(zip(catch_up, rest, strict=True))
    ids = iter(ids)
    available = {
        pid: account.balance
        for (kind, pid, _i), account in snapshot.items()
        if kind == Account.Kind.AVAILABLE
    }
    tally = _Tally(available=available, cluster_counts=counts, written=written)
    commands: dict[str, Command] = {}
    # instrument -> (position in `out`, order, whose, its events), in placing order
    placed: dict[str, list] = defaultdict(list)
    out: list[Placed | DomainError | None] = []
    for entry in entries:
        if not isinstance(entry.item, Order):
            out.append(entry.item)
            continue
        order, pk, who = row_copy(entry.item), next(ids), entry.participant.pk
        try:
            instrument = locked.get(order.instrument_symbol)
            if instrument is None:
                raise unknown_instrument(order.instrument_symbol)
            _check_locked(order, instrument, now, tally)
            need = order_need(order, instrument)
            available = tally.available.get(who, Decimal(0))
            if need > available - tally.set_aside[who]:
                if tally.set_aside[who]:  # what earlier orders use may be less
                    raise _Inexact
                raise _short(order, need, available)
            command = commands.get(instrument.symbol)
            if command is None:
                command = commands[instrument.symbol] = Command(
                    instrument=instrument,
                    book=books.book_checkout(instrument, missed.get(instrument.symbol)),
                    now=now,
                )
                command.batch.snapshot, command.batch.entry_ids = snapshot, entry_ids
            order.pk = pk
            _prepare_row(order, instrument)
            events = command.book.place(
                _engine_order(order, instrument), codec.instant(now)
            )
            if len(events) == 1 and isinstance(events[0], engine.Rejected):
                raise rejection_error(events[0].code)
        except DomainError as exc:
            out.append(exc)
            continue
        tally.set_aside[who] += need
        command.orders[pk] = order
        command.new.add(pk)
        order.placed_through = command.book.sequence
        if order.side == Order.Side.SELL:  # what it commits after its fills
            factor = capacity.factor_for(cluster=order.cluster, instrument=instrument)
            tally.chips[order.cluster_id].append(
                (
                    committed_chips(
                        _kept_quantity(order, events, instrument),
                        factor,
                        instrument.hours,
                    ),
                    instrument.delivery_start,
                    instrument.delivery_end,
                )
            )
        cause = entry.participant.user_id
        placed[instrument.symbol].append((len(out), order, cause, events))
        out.append(None)  # the order's Placed, once its events are persisted
    # The events are persisted per instrument once every order has been matched:
    # the orders they name are loaded, their holds locked, and trade keys reserved
    # in one round trip each for the whole batch.
    for symbol, orders in placed.items():
        trades = commands[symbol].apply_segments([o[2:] for o in orders])
        for (i, order, _cause, _events), fills in zip(orders, trades, strict=True):
            out[i] = Placed(order, fills, created=True)
    try:  # the transaction rolls back what finishing wrote
        for command in commands.values():
            command.finish()
    except (InsufficientFunds, IntegrityError) as exc:
        if len(new) == 1 and not snapshot_overdrawn(exc):
            raise  # the one order's own refusal, or its client_order_id's replay
        # Money another transaction took since the snapshot, or a client_order_id
        # sent twice (here, or concurrently): the exact path, which locks the
        # accounts before it checks them, knows which order to refuse.
        raise _Inexact from exc
    return out


def _kept_quantity(order: Order, events: list[engine.Event], inst: Instrument):
    """What an order placed with these events keeps after them (filled or resting):
    its quantity less what was cancelled at once (an IOC's rest)."""
    cancelled = sum(
        e.remaining
        for e in events
        if isinstance(e, engine.Cancelled | engine.Expired) and e.order_id == order.pk
    )
    return order.quantity - codec.decimal_steps(cancelled, inst.lot_size)


def _place_each(entries: list[_Entry]) -> list[Placed | DomainError]:
    """Orders one by one, each in a savepoint of its own."""
    now = timezone.now()
    symbols = {e.item.instrument_symbol for e in entries if isinstance(e.item, Order)}
    locked = instruments_for_update_by_symbol(symbols)
    out: list[Placed | DomainError] = []
    for entry in entries:
        item = entry.item
        if not isinstance(item, Order):
            out.append(item)
            continue
        try:
            with transaction.atomic():
                out.append(
                    _place(
                        participant=entry.participant,
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
                replay = _replay(entry.participant, entry.request)
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
    """Under the instrument's lock (the batch took it): check, match, persist.
    `order` is the unsaved row built before the lock (references resolved); a retry
    gets a fresh copy."""
    order = row_copy(order)  # its own state and cache of related objects
    symbol = order.instrument_symbol
    if instrument is None:  # the batch's copy was dropped after a refusal: read again
        instrument = instruments_for_update_by_symbol({symbol}).get(symbol)
        if instrument is None:
            raise unknown_instrument(symbol)
    _check_locked(order, instrument, now)
    if not _checked_early(order):
        _check_funds(order, instrument)
    _prepare_row(order, instrument)
    [order.pk] = ids_reserve(Order, 1)
    book = books.book_checkout(instrument)
    events = book.place(_engine_order(order, instrument), codec.instant(now))
    if len(events) == 1 and isinstance(events[0], engine.Rejected):
        raise rejection_error(events[0].code)
    command = Command(
        instrument=instrument, book=book, now=now, caused_by_id=participant.user_id
    )
    command.orders[order.pk] = order
    command.new.add(order.pk)  # written at finish: a duplicate client_order_id raises
    command.apply(events)
    order.placed_through = book.sequence
    command.finish()
    return Placed(order, command.trades, created=True)


def _check_locked(
    order: Order, instrument: Instrument, now: datetime, tally: "_Tally | None" = None
) -> None:
    """The checks that need the instrument's lock (and the cluster's, for a sell):
    open, on the grid, in the band, within capacity. Sets a market order's
    protection price and a sell's committed chips. A bulk placement passes its tally
    of what the batch has committed so far."""
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
        _check_capacity(order, instrument, tally)


def _prepare_row(order: Order, instrument: Instrument) -> None:
    order.instrument = instrument
    order.conversion_version, order.surcharge_version = table_versions(
        instrument.conversion_table_id, instrument.surcharge_table_id
    )


def _order_row(participant: Participant, req: OrderRequest) -> Order:
    """The order's row, unsaved, with its references resolved (no lock needed: a
    cluster's region and chip never change, and neither do regions or stacks)."""
    order = unsaved(  # without Model.__init__: once per order of a batch
        Order,
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
    order.participant = participant
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


def _check_capacity(
    order: Order, instrument: Instrument, tally: "_Tally | None" = None
) -> None:
    cluster = order.cluster  # chip and region resolved before the lock
    if tally is None:
        cluster.count = cluster_count_for_update(cluster.pk)  # resizes take this lock
        known = pending = None
    else:  # locked and read with the instruments (`_place_bulk`)
        if cluster.pk not in tally.cluster_counts:
            raise missing_cluster(cluster.pk)
        cluster.count = tally.cluster_counts[cluster.pk]
        known = tally.written.get((cluster.pk, instrument.symbol), [])
        pending = tally.chips[cluster.pk]
    factor = capacity.factor_for(cluster=cluster, instrument=instrument)
    order.committed_chips = committed_chips(order.quantity, factor, instrument.hours)
    capacity.capacity_check(
        cluster=cluster,
        instrument=instrument,
        chips=order.committed_chips,
        pending=pending,
        known=known,
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
    available = _available({order.participant_id}).get(order.participant_id, Decimal(0))
    if need > available:
        raise _short(order, need, available)


def _short(order: Order, need: Decimal, available: Decimal) -> InsufficientFunds:
    what = "hold" if order.side == Order.Side.BUY else "bond"
    return InsufficientFunds(
        f"This order needs a {what} of {need} CNY; {available} CNY is available."
    )


def _available(participant_ids: set[int]) -> dict[int, Decimal]:
    """Available balances by participant (no lock: the ledger checks again)."""
    return reads_together(_available_read(participant_ids))[0]


def _available_read(participant_ids: set[int]) -> Read:
    """`_available` as a read that can go with others; plain SQL: once per order,
    where the ORM's compiler cost more than the query."""
    marks = ", ".join(["%s"] * len(participant_ids))
    sql = (
        f"SELECT participant_id, balance FROM {Account._meta.db_table} "  # noqa: S608
        f"WHERE kind = %s AND participant_id IN ({marks})"
    )
    return Read(
        sql,
        [Account.Kind.AVAILABLE, *participant_ids],
        lambda rows: {pid: decimal_from_db(balance) for pid, balance in rows},
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
