"""Persist what the engine decided: orders, trades, the event log, and the money.

`Command` is one book command's unit of work inside the entry point's transaction. It
is created after the instrument's row lock is taken; `apply(events)` walks the engine's
events in order (keeping holds ahead of the fills that draw on them), and `finish()`
resets every touched order's hold to what it still needs, commits the ledger batch
(locking every account in one statement), and writes orders, events and obligations.
"""

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from exchange import books, codec, engine
from exchange.exceptions import (
    FokNotFillable,
    InvalidOrder,
    OrderNotOpen,
    PostOnlyWouldCross,
)
from exchange.models import ClusterCommitment, Instrument, Order, OrderEvent, Trade
from exchange.services.capacity import table_factor
from market.db import (
    execute_later,
    ids_reserve,
    rows_insert,
    rows_update,
    unsaved,
    writes_together,
)
from market.models import Cluster
from settlement import interface as settlement
from settlement import money
from settlement.ledger import Batch

CHIP_PLACES = Decimal("0.000000001")


def order_need(order: Order, instrument: Instrument) -> Decimal:
    """What an open order's remaining quantity must have set aside."""
    if order.side == Order.Side.BUY:
        return money.buy_hold(
            quantity=order.remaining_quantity,
            limit=order.price,
            maker_bps=instrument.maker_fee_bps,
            taker_bps=instrument.taker_fee_bps,
        )
    return money.sell_bond(
        quantity=order.remaining_quantity,
        price=order.price,
        bond_rate=instrument.bond_rate,
    )


def committed_chips(quantity: Decimal, factor: Decimal, hours: Decimal) -> Decimal:
    """Chips a sell of `quantity` SCU-h commits over its window, rounded up."""
    return (quantity / (factor * hours)).quantize(CHIP_PLACES, rounding="ROUND_CEILING")


@dataclass
class Command:
    instrument: Instrument
    book: engine.Book
    now: datetime
    # The user whose command this is; commands placed together in one Command (group
    # commit) set `batch.caused_by_id` to each one's user before applying its events.
    caused_by_id: int | None = None
    orders: dict[int, Order] = field(default_factory=dict)
    # Orders placed by this command whose rows `finish()` inserts (their keys were
    # reserved); the others exist and are updated.
    new: set[int] = field(default_factory=set)
    trades: list[Trade] = field(default_factory=list)
    batch: Batch = field(init=False)
    _events: list[OrderEvent] = field(default_factory=list)
    _touched: dict[int, int] = field(default_factory=dict)  # order id -> cause seq
    _causes: dict[int, int | None] = field(default_factory=dict)  # -> user id
    _held_at: dict[int, int] = field(default_factory=dict)  # -> seq its hold was set
    _chips_before: dict[int, Decimal] = field(default_factory=dict)
    _obligations: list = field(default_factory=list)
    _factors: dict[int, Decimal] = field(default_factory=dict)
    _trade_ids: Iterator[int] = field(default_factory=lambda: iter(()))

    def __post_init__(self) -> None:
        # Hold entry keys carry this command's new sequence numbers: never seen before.
        self.batch = Batch(caused_by_id=self.caused_by_id, check_existing=False)

    # --- events --------------------------------------------------------------------
    def apply(self, events: list[engine.Event]) -> None:
        """Persist one engine command's events, caused by `batch.caused_by_id`."""
        self.apply_segments([(self.batch.caused_by_id, events)])

    def apply_segments(
        self, segments: list[tuple[int | None, list[engine.Event]]]
    ) -> list[list[Trade]]:
        """Persist the events of several engine commands that ran one after the other
        on this book (a batch, or single orders committed as a group), each segment
        caused by its own user. The lookups (orders, holds, trade keys) run once for
        all of them. Returns each segment's trades."""
        events = [event for _cause, part in segments for event in part]
        self._prepare(events)
        out = []
        for cause, part in segments:
            self.batch.caused_by_id = cause
            first = len(self.trades)
            for event in part:
                if isinstance(event, engine.Rejected):
                    continue
                handler = getattr(self, f"_on_{codec.EVENT_KINDS[type(event)]}")
                handler(event)
            out.append(self.trades[first:])
        return out

    def _prepare(self, events: list[engine.Event]) -> None:
        """Load the orders the events name, lock their holds, reserve trade keys."""
        ids = sorted({oid for e in events for oid in _order_ids(e)})
        self._load(ids)
        for i in ids:  # as written, for the cluster commitments' deltas
            if i not in self.new:
                self._chips_before.setdefault(i, self.orders[i].committed_chips)
        slots = [
            (settlement.hold_kind(self.orders[i].side), settlement.order_reference(i))
            for i in ids
        ]
        # An order accepted by these events has no hold yet: nothing to look up.
        new = {e.order_id for e in events if isinstance(e, engine.Accepted)}
        self.batch.holds_absent(
            [s for i, s in zip(ids, slots, strict=True) if i in new]
        )
        self.batch.holds_prefetch(
            [s for i, s in zip(ids, slots, strict=True) if i not in new]
        )
        trade_ids = ids_reserve(Trade, sum(isinstance(e, engine.Fill) for e in events))
        self.batch.holds_absent([settlement.trade_bond_slot(i) for i in trade_ids])
        self._trade_ids = iter(trade_ids)

    def _load(self, ids: list[int]) -> None:
        missing = sorted(i for i in ids if i not in self.orders)
        if missing:  # plain SQL through `raw` (converters applied): once per fill
            marks = ", ".join(["%s"] * len(missing))
            table = Order._meta.db_table
            sql = f"SELECT * FROM {table} WHERE id IN ({marks})"  # noqa: S608
            self.orders.update((o.pk, o) for o in Order.objects.raw(sql, missing))

    def _log(self, event, order_id: int) -> None:
        self._events.append(
            unsaved(
                OrderEvent,
                instrument_id=self.instrument.pk,
                sequence=event.seq,
                kind=codec.EVENT_KINDS[type(event)],
                order_id=order_id,
                data=codec.event_json(event),
            )
        )

    def _hold_now(self, order: Order, cause: int) -> None:
        """Set the hold to the order's need at once: fills that follow draw on it."""
        setter = (
            settlement.buy_hold_set
            if order.side == Order.Side.BUY
            else settlement.sell_bond_set
        )
        setter(
            self.batch,
            participant_id=order.participant_id,
            order_id=order.pk,
            instrument=self.instrument.symbol,
            amount=order_need(order, self.instrument),
            cause=f"{self.instrument.symbol}#{cause}",
        )
        self._held_at[order.pk] = cause

    def _on_accepted(self, event: engine.Accepted) -> None:
        order = self.orders[event.order_id]
        order.sequence = event.seq
        self._log(event, order.pk)
        self._hold_now(order, event.seq)
        self._touch(order.pk, event.seq)

    def _on_amended(self, event: engine.Amended) -> None:
        order = self.orders[event.order_id]
        inst = self.instrument
        order.price = codec.decimal_steps(event.price, inst.tick_size)
        order.remaining_quantity = codec.decimal_steps(event.remaining, inst.lot_size)
        order.quantity = order.filled_quantity + order.remaining_quantity
        order.sequence = event.priority_seq
        self._log(event, order.pk)
        self._hold_now(order, event.seq)
        self._touch(order.pk, event.seq)

    def _on_fill(self, event: engine.Fill) -> None:
        inst = self.instrument
        buy, sell = self.orders[event.buy_order_id], self.orders[event.sell_order_id]
        price = codec.decimal_steps(event.price, inst.tick_size)
        surcharge = codec.decimal_steps(event.surcharge, inst.tick_size)
        quantity = codec.decimal_steps(event.quantity, inst.lot_size)
        buyer_is_taker = event.taker_order_id == buy.pk
        buyer_bps = inst.taker_fee_bps if buyer_is_taker else inst.maker_fee_bps
        seller_bps = inst.maker_fee_bps if buyer_is_taker else inst.taker_fee_bps
        all_in = price + surcharge
        trade = unsaved(
            Trade,
            id=next(self._trade_ids),
            buyer_id=buy.participant_id,
            seller_id=sell.participant_id,
            price=price,
            surcharge=surcharge,
            all_in_price=all_in,
            quantity=quantity,
            aggressor=Trade.Aggressor.BUY if buyer_is_taker else Trade.Aggressor.SELL,
            buyer_fee=money.fee(money.money(quantity * all_in), buyer_bps),
            seller_fee=money.fee(money.money(quantity * price), seller_bps),
            sell_region_id=sell.region_id,
            buy_region_id=buy.region_id,
            sequence=event.seq,
            executed_at=self.now,
        )
        trade.instrument, trade.buy_order, trade.sell_order = inst, buy, sell
        self.trades.append(trade)
        self._obligations.append(
            settlement.fill_record(
                self.batch,
                settlement.Fill(
                    trade_id=trade.pk,
                    instrument=inst.symbol,
                    buyer_id=buy.participant_id,
                    seller_id=sell.participant_id,
                    buy_order_id=buy.pk,
                    sell_order_id=sell.pk,
                    quantity=quantity,
                    price=price,
                    surcharge=surcharge,
                    buyer_fee_bps=buyer_bps,
                    seller_fee_bps=seller_bps,
                    bond_amount=money.trade_bond(
                        quantity=quantity, price=sell.price, bond_rate=inst.bond_rate
                    ),
                    delivery_start=inst.delivery_start,
                    delivery_end=inst.delivery_end,
                    report_deadline=inst.report_deadline_at,
                    confirm_deadline=inst.confirm_deadline_at,
                ),
            )
        )
        for order, remaining, unit_price in (
            (buy, event.buy_remaining, all_in),
            (sell, event.sell_remaining, price),
        ):
            order.filled_quantity += quantity
            order.filled_value += money.money(quantity * unit_price)
            order.remaining_quantity = codec.decimal_steps(remaining, inst.lot_size)
            order.status = (
                Order.Status.PARTIALLY_FILLED if remaining else Order.Status.FILLED
            )
            self._touch(order.pk, event.seq)
        self._log(event, event.taker_order_id)
        inst.last_price = inst.reference_price = price

    def _on_cancelled(self, event: engine.Cancelled) -> None:
        self._end(event, Order.Status.CANCELLED, event.reason)

    def _on_expired(self, event: engine.Expired) -> None:
        self._end(event, Order.Status.EXPIRED, "")

    def _end(self, event, status: str, reason: str) -> None:
        order = self.orders[event.order_id]
        order.status = status
        order.cancel_reason = reason
        order.remaining_quantity = Decimal("0.0")
        self._log(event, order.pk)
        self._touch(order.pk, event.seq)

    def _touch(self, order_id: int, seq: int) -> None:
        self._touched[order_id] = seq
        # Whoever's command touched it last also caused its hold's reset.
        self._causes[order_id] = self.batch.caused_by_id

    # --- finishing -----------------------------------------------------------------
    def finish(self) -> None:
        """Reset holds, post the money, write everything (the writes nothing reads
        back in one round trip). InsufficientFunds raised here rolls the caller's
        transaction back with nothing written."""
        with writes_together():
            self._finish()

    def _finish(self) -> None:
        inst = self.instrument
        now = timezone.now()
        for order_id, cause in self._touched.items():
            order = self.orders[order_id]
            order.updated_at = now
            self.batch.caused_by_id = self._causes[order_id]
            if order.is_open:
                if self._held_at.get(order_id) != cause:  # else set by its last event
                    self._hold_now(order, cause)
            else:
                settlement.order_release(
                    self.batch,
                    side=order.side,
                    participant_id=order.participant_id,
                    order_id=order.pk,
                    instrument=inst.symbol,
                    cause=f"{inst.symbol}#{cause}",
                )
            if order.side == Order.Side.SELL:
                order.committed_chips = committed_chips(
                    order.filled_quantity + order.remaining_quantity,
                    self._factor(order),
                    inst.hours,
                )
        self.batch.commit()
        # Rows before the rows that refer to them: tests check constraints at once.
        touched = [self.orders[i] for i in self._touched]
        rows_insert([o for o in touched if o.pk in self.new], with_pk=True)
        self._commitments_write(touched)
        rows_insert(self.trades, with_pk=True)
        settlement.obligations_save(self._obligations)
        _orders_write([o for o in touched if o.pk not in self.new])
        rows_insert(self._events)
        inst.sequence = self.book.sequence
        best_bid, best_ask = self.book.best_bid(), self.book.best_ask()
        inst.best_bid = None if best_bid is None else best_bid * inst.tick_size
        inst.best_ask = None if best_ask is None else best_ask * inst.tick_size
        columns = ("sequence", "last_price", "reference_price", "best_bid", "best_ask")
        _row_update(inst, columns)

    def _commitments_write(self, touched: list[Order]) -> None:
        """Move each cluster's commitment in this instrument by what its sells'
        committed chips moved (an upsert: the instrument's lock serializes them)."""
        deltas: dict[int, Decimal] = {}
        for order in touched:
            if order.side != Order.Side.SELL:
                continue
            before = 0 if order.pk in self.new else self._chips_before[order.pk]
            if order.committed_chips != before:
                deltas[order.cluster_id] = (
                    deltas.get(order.cluster_id, 0) + order.committed_chips - before
                )
        if not deltas:
            return
        table = ClusterCommitment._meta.db_table
        chips = ClusterCommitment._meta.get_field("chips")
        values = ", ".join(["(%s, %s, %s)"] * len(deltas))
        params = []
        for cluster_id, delta in deltas.items():
            params += [cluster_id, self.instrument.pk]
            params.append(chips.get_db_prep_save(delta, connection))
        execute_later(
            f"INSERT INTO {table} (cluster_id, instrument_id, chips) "  # noqa: S608
            f"VALUES {values} ON CONFLICT (cluster_id, instrument_id) "
            f"DO UPDATE SET chips = {table}.chips + excluded.chips",
            params,
        )

    def _factor(self, order: Order) -> Decimal:
        inst = self.instrument
        chip_id = _cluster_chip(order.cluster_id)
        factor = table_factor(inst.conversion_table_id, inst.profile_id, chip_id)
        if factor is None:  # placement checked it; only a broken table gets here
            raise RuntimeError(f"no factor for chip {chip_id} in {inst}")
        return factor


@functools.lru_cache(maxsize=8192)
def _cluster_chip(cluster_id: int) -> int:
    """A cluster's chip never changes once it exists (orders refer to it)."""
    return Cluster.objects.values_list("chip_id", flat=True).get(pk=cluster_id)


def _order_ids(event: engine.Event) -> tuple[int, ...]:
    if isinstance(event, engine.Fill):
        return (event.buy_order_id, event.sell_order_id)
    return (event.order_id,)


def command_run(
    instrument: Instrument,
    now: datetime,
    engine_call: Callable[[engine.Book], list[engine.Event]],
    *,
    caused_by_id: int | None = None,
    orders: dict[int, Order] | None = None,
) -> Command:
    """Check out the book, run one engine command on it, persist what it decided.
    Caller holds the instrument's lock. A rejection raises its domain error."""
    book = books.book_checkout(instrument)
    events = engine_call(book)
    if len(events) == 1 and isinstance(events[0], engine.Rejected):
        raise rejection_error(events[0].code)
    command = Command(
        instrument=instrument, book=book, now=now, caused_by_id=caused_by_id
    )
    command.orders.update(orders or {})
    command.apply(events)
    command.finish()
    return command


def rejection_error(code: engine.RejectCode) -> Exception:
    return {
        engine.RejectCode.FOK_NOT_FILLABLE: FokNotFillable,
        engine.RejectCode.POST_ONLY_WOULD_CROSS: PostOnlyWouldCross,
        engine.RejectCode.ORDER_NOT_OPEN: OrderNotOpen,
    }.get(code, InvalidOrder)(f"The engine refused the command ({code}).")


ORDER_COLUMNS = (
    "price",
    "quantity",
    "filled_quantity",
    "remaining_quantity",
    "filled_value",
    "status",
    "cancel_reason",
    "sequence",
    "committed_chips",
    "placed_through",
    "updated_at",
)


def _row_update(obj, columns: tuple[str, ...]) -> None:
    """`save(update_fields=columns)` in plain SQL: once per command, where the ORM's
    compiler cost more than the statement."""
    meta = obj._meta
    fields = [meta.get_field(c) for c in columns]
    assignments = ", ".join(
        f"{connection.ops.quote_name(f.column)} = %s" for f in fields
    )
    execute_later(
        f"UPDATE {meta.db_table} SET {assignments} WHERE id = %s",  # noqa: S608
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
        + [obj.pk],
    )


def _orders_write(orders: list[Order]) -> None:
    """UPDATE the touched orders in one statement (bulk_update's CASE expressions
    cost more to build than these few rows)."""
    rows_update(orders, ORDER_COLUMNS)
