"""Persist what the engine decided: orders, trades, the event log, and the money.

`Command` is one book's unit of work inside the entry point's transaction, created
after the instrument's row lock is taken. `apply(events)` walks the engine's events in
order (setting holds ahead of the fills that draw on them, planned on the ledger
`Batch`); then `settle()` resets every touched order's hold to what it still needs,
the batch commits (locking every account in one statement), and `write()` writes
orders, events, trades and obligations. `finish()` does those three for a command
that has its batch to itself.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import DatabaseError
from django.utils import timezone

from core.db import (
    constraint_name,
    ids_reserve,
    row_update,
    rows_insert,
    rows_update,
    unsaved,
    writes_together,
)
from exchange import books, codec, engine
from exchange.exceptions import DuplicateClientOrderId
from exchange.models import Instrument, Order, OrderEvent, Trade
from exchange.persistence import orders_by_id
from exchange.services import capacity, rules
from settlement import interface as settlement


@dataclass
class Command:
    instrument: Instrument
    book: engine.Book
    now: datetime
    # The user whose command this is; commands placed together (group commit) set
    # `batch.caused_by_id` to each one's user before applying its events.
    caused_by_id: int | None = None
    # Hold entry keys carry this command's new sequence numbers: never seen before.
    batch: settlement.Batch = field(
        default_factory=lambda: settlement.Batch(check_existing=False)
    )
    orders: dict[int, Order] = field(default_factory=dict)
    # Orders placed by this command whose rows `write()` inserts (their keys were
    # reserved); the others exist and are updated.
    new: set[int] = field(default_factory=set)
    trades: list[Trade] = field(default_factory=list)
    moves: capacity.Moves = field(init=False)
    _events: list[OrderEvent] = field(default_factory=list)
    _touched: dict[int, int] = field(default_factory=dict)  # order id -> cause seq
    _causes: dict[int, int | None] = field(default_factory=dict)  # -> user id
    _held_at: dict[int, int] = field(default_factory=dict)  # -> seq its hold was set
    _obligations: list = field(default_factory=list)
    _trade_ids: Iterator[int] = field(default_factory=lambda: iter(()))

    def __post_init__(self) -> None:
        self.moves = capacity.Moves(self.instrument)
        if self.caused_by_id is not None:
            self.batch.caused_by_id = self.caused_by_id

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
        self._prepare([event for _cause, part in segments for event in part])
        out = []
        for cause, part in segments:
            self.batch.caused_by_id = cause
            first = len(self.trades)
            for event in part:
                if not isinstance(event, engine.Rejected):
                    getattr(self, f"_on_{codec.EVENT_KINDS[type(event)]}")(event)
            out.append(self.trades[first:])
        return out

    def _prepare(self, events: list[engine.Event]) -> None:
        """Load the orders the events name, lock their holds, reserve trade keys."""
        ids = sorted({oid for e in events for oid in _order_ids(e)})
        missing = [i for i in ids if i not in self.orders]
        if missing:
            self.orders.update((o.pk, o) for o in orders_by_id(missing))
        for i in ids:
            if i not in self.new:
                self.moves.note(self.orders[i])
        # An order accepted by these events has no hold yet: nothing to look up.
        accepted = {e.order_id for e in events if isinstance(e, engine.Accepted)}
        slots = {
            i: (
                settlement.hold_kind(self.orders[i].side),
                settlement.order_reference(i),
            )
            for i in ids
        }
        self.batch.holds_absent([s for i, s in slots.items() if i in accepted])
        self.batch.holds_prefetch([s for i, s in slots.items() if i not in accepted])
        trade_ids = ids_reserve(Trade, sum(isinstance(e, engine.Fill) for e in events))
        self.batch.holds_absent([settlement.trade_bond_slot(i) for i in trade_ids])
        self._trade_ids = iter(trade_ids)

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
            amount=rules.order_need(order, self.instrument),
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
        if event.attributes is not None:  # a sell took its place anew
            order.confidential = event.attributes.confidential
            order.certifications = ",".join(sorted(event.attributes.certifications))
            order.reliability = event.attributes.reliability
        self._log(event, order.pk)
        self._hold_now(order, event.seq)
        self._touch(order.pk, event.seq)

    def _on_fill(self, event: engine.Fill) -> None:
        inst = self.instrument
        buy, sell = self.orders[event.buy_order_id], self.orders[event.sell_order_id]
        trade = self._trade(event, buy, sell)
        for order, remaining, unit_price in (
            (buy, event.buy_remaining, trade.all_in_price),
            (sell, event.sell_remaining, trade.price),
        ):
            order.filled_quantity += trade.quantity
            order.filled_value += settlement.amount(trade.quantity * unit_price)
            order.remaining_quantity = codec.decimal_steps(remaining, inst.lot_size)
            order.status = (
                Order.Status.PARTIALLY_FILLED if remaining else Order.Status.FILLED
            )
            self._touch(order.pk, event.seq)
        self._log(event, event.taker_order_id)
        inst.last_price = inst.reference_price = trade.price

    def _trade(self, event: engine.Fill, buy: Order, sell: Order) -> Trade:
        """The fill's trade, and its obligation handed to settlement, which moves
        the buyer's money into escrow and decides the buyer's fee and the bond."""
        inst = self.instrument
        price = codec.decimal_steps(event.price, inst.tick_size)
        surcharge = codec.decimal_steps(event.surcharge, inst.tick_size)
        quantity = codec.decimal_steps(event.quantity, inst.lot_size)
        buyer_is_taker = event.taker_order_id == buy.pk
        buyer_bps = inst.taker_fee_bps if buyer_is_taker else inst.maker_fee_bps
        seller_bps = inst.maker_fee_bps if buyer_is_taker else inst.taker_fee_bps
        trade_id = next(self._trade_ids)
        obligation = settlement.fill_record(
            self.batch,
            settlement.Fill(
                trade_id=trade_id,
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
                sell_price=sell.price,
                bond_rate=inst.bond_rate,
                delivery_start=inst.delivery_start,
                delivery_end=inst.delivery_end,
                report_deadline=inst.report_deadline_at,
                confirm_deadline=inst.confirm_deadline_at,
                region_id=sell.region_id,
            ),
        )
        self._obligations.append(obligation)
        trade = unsaved(
            Trade,
            id=trade_id,
            buyer_id=buy.participant_id,
            seller_id=sell.participant_id,
            price=price,
            surcharge=surcharge,
            all_in_price=price + surcharge,
            quantity=quantity,
            aggressor=Trade.Aggressor.BUY if buyer_is_taker else Trade.Aggressor.SELL,
            buyer_fee=obligation.buyer_fee_escrowed,
            seller_fee=settlement.fee(settlement.amount(quantity * price), seller_bps),
            sell_region_id=sell.region_id,
            buy_region_id=buy.region_id,
            sequence=event.seq,
            executed_at=self.now,
        )
        trade.instrument, trade.buy_order, trade.sell_order = inst, buy, sell
        self.trades.append(trade)
        return trade

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
        """Settle the holds, post the money, write everything (the writes nothing
        reads back in one round trip). InsufficientFunds raised here rolls the
        caller's transaction back with nothing written."""
        with writes_together():
            self.settle()
            self.batch.commit()
            self.write()

    def settle(self) -> None:
        """Plan every touched order's hold: reset to what it still needs (unless its
        last event just set it), or released once the order is done; and what each
        sell now commits."""
        inst, now = self.instrument, timezone.now()
        for order_id, cause in self._touched.items():
            order = self.orders[order_id]
            order.updated_at = now
            self.batch.caused_by_id = self._causes[order_id]
            if order.is_open:
                if self._held_at.get(order_id) != cause:
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
                self.moves.recommit(order)

    def write(self) -> None:
        """Rows before the rows that refer to them (tests check constraints at once);
        then the instrument's sequence, last price and best prices."""
        touched = [self.orders[i] for i in self._touched]
        rows_insert(
            [o for o in touched if o.pk in self.new],
            with_pk=True,
            errors=_duplicate_client_order_id,
        )
        self.moves.write(touched)
        rows_insert(self.trades, with_pk=True)
        settlement.obligations_save(self._obligations)
        rows_update([o for o in touched if o.pk not in self.new], ORDER_COLUMNS)
        rows_insert(self._events)
        inst = self.instrument
        inst.sequence = self.book.sequence
        best_bid, best_ask = self.book.best_bid(), self.book.best_ask()
        inst.best_bid = None if best_bid is None else best_bid * inst.tick_size
        inst.best_ask = None if best_ask is None else best_ask * inst.tick_size
        row_update(inst, INSTRUMENT_COLUMNS)


def _duplicate_client_order_id(exc: DatabaseError) -> Exception | None:
    if constraint_name(exc) == "order_unique_client_order_id":
        return DuplicateClientOrderId(str(exc))
    return None


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
    rules.check_not_rejected(events)
    command = Command(
        instrument=instrument, book=book, now=now, caused_by_id=caused_by_id
    )
    command.orders.update(orders or {})
    command.apply(events)
    command.finish()
    return command


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
    "confidential",
    "certifications",
    "reliability",
    "updated_at",
)
INSTRUMENT_COLUMNS = (
    "sequence",
    "last_price",
    "reference_price",
    "best_bid",
    "best_ask",
)
