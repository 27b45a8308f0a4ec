"""Order placement as one pipeline of named phases, for a single order, a batch, and
the requests queued on an instrument (group commit) alike:

- `read_locked`: one round trip that locks the instruments (then the sells' clusters,
  in key order), reserves the orders' keys, and reads the participants' accounts
  (a snapshot), the clusters' commitments and verified attributes, the sellers'
  reliability scores and what the warm books missed;
- `check`, order by order: open, grid, band, capacity (`capacity.Tally`), a sell's
  verified cluster and attributes (`sellers.Sellers`), funds (settlement's
  `Funds`), each rule from its owner;
- `match`: the engine, on the warm book;
- `persist`, per instrument: the events become rows and ledger entries (`Command`);
- `commit`: the ledger posts, checking funds once more, and every row is written.

Every check runs before an order touches the book, so a refused order leaves nothing
behind. In its fast mode the pipeline places all the orders in one pass and decides
funds against the snapshot, where what each order sets aside is an upper bound of
what it uses. In its exact mode it runs the same phases one order at a time, each in
a savepoint, with the accounts locked before the ledger decides: the caller reruns
a group in exact mode when the fast pass cannot decide (see `placement`). In its
preview mode (`preview.PlacementPreview`) it runs the same phases on a copy of the
book inside a consistent snapshot, and commits nothing.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import InterfaceError, OperationalError, transaction

from core import caches
from core.db import ids_read, reads_together, row_copy, writes_together
from exchange import books, codec, engine
from exchange.exceptions import DuplicateClientOrderId, InvalidOrder, OrderFailed
from exchange.models import Instrument, Order, Trade
from exchange.persistence import instruments_lock_read
from exchange.services import capacity, rules, sellers
from exchange.services.command import Command
from exchange.services.requests import Entry, Placed, replay
from market.exceptions import DomainError
from market.models import ConversionTable, SurchargeTable
from market.persistence import regions_suspended_read
from settlement import interface as settlement

log = logging.getLogger(__name__)

type Outcome = Placed | DomainError


@dataclass(slots=True)
class LockedReads:
    """What `read_locked`'s round trip brings back, by name."""

    instruments: dict[str, Instrument]
    order_ids: Iterator[int]
    ledger: settlement.LedgerSnapshot
    capacity: capacity.Tally
    sellers: sellers.Sellers
    missed: dict[str, list]
    suspended: dict[int, str]  # region id: the operator's reason


@dataclass(slots=True)
class _Step:
    """An order that passed its checks and the engine, until its events persist."""

    order: Order
    cause: int | None  # the user whose request it is
    events: list[engine.Event]
    need: Decimal  # what it set aside at acceptance
    fills: list[Trade] = field(default_factory=list)

    def answer(self) -> Placed:
        return Placed(self.order, self.fills, created=True)


@dataclass
class _Work:
    """One pass of the pipeline: its reads, tallies, ledger batch and commands."""

    reads: LockedReads
    funds: settlement.Funds
    batch: settlement.Batch
    now: datetime
    book_of: Callable[[Instrument, list | None], engine.Book]
    commands: dict[str, Command] = field(default_factory=dict)
    steps: dict[str, list[_Step]] = field(default_factory=lambda: defaultdict(list))

    def command(self, instrument: Instrument) -> Command:
        """The instrument's command, its book (`Placement.book`) got on first use."""
        command = self.commands.get(instrument.symbol)
        if command is None:
            missed = self.reads.missed.get(instrument.symbol)
            command = self.commands[instrument.symbol] = Command(
                instrument=instrument,
                book=self.book_of(instrument, missed),
                now=self.now,
                batch=self.batch,
            )
        return command


class Placement:
    """Places `entries` inside the caller's durable transaction (see the module);
    each entry is answered in order, a refusal as its domain error."""

    def __init__(self, entries: list[Entry], *, now: datetime, exact: bool) -> None:
        self.entries, self.now, self.exact = entries, now, exact

    def run(self) -> list[Outcome]:
        if not self.exact:
            return self._place(self.entries)
        return [self._place_alone(entry) for entry in self.entries]

    def _place(self, entries: list[Entry]) -> list[Outcome]:
        new = [e for e in entries if isinstance(e.item, Order)]
        if not new:  # every one answered before the lock
            return [e.item for e in entries]  # type: ignore[misc]
        reads = self.read_locked(new)
        work = _Work(
            reads,
            funds=settlement.Funds(reads.ledger.available()),
            batch=settlement.Batch(
                check_existing=False, snapshot=reads.ledger, exact=self.exact
            ),
            now=self.now,
            book_of=self.book,
        )
        out = [
            self._check_and_match(e, work) if isinstance(e.item, Order) else e.item
            for e in entries
        ]
        self.persist(work)
        self.commit(work)
        return [o.answer() if isinstance(o, _Step) else o for o in out]

    def _place_alone(self, entry: Entry) -> Outcome:
        """Exact mode: one order in a savepoint of its own."""
        if not isinstance(entry.item, Order):
            return entry.item
        try:
            with transaction.atomic():
                [outcome] = self._place([entry])
            return outcome
        except (OperationalError, InterfaceError):
            raise  # the transaction's, not the order's: retried by the entry point
        except DuplicateClientOrderId:
            outcome = _replay_or_error(entry)
        except DomainError as exc:
            outcome = exc
        except Exception:
            log.exception("placing an order failed: %r", entry.request)
            outcome = OrderFailed("This order could not be placed; nothing was done.")
        books.discard(entry.item.instrument_symbol)  # the savepoint rolled it back
        return outcome

    def book(self, instrument: Instrument, missed: list | None) -> engine.Book:
        """The book the orders match on: the instrument's warm book, checked out
        (caller holds the instrument's lock)."""
        return books.book_checkout(instrument, missed)

    # --- phases --------------------------------------------------------------------
    def read_locked(self, new: list[Entry]) -> LockedReads:
        """Lock and read, in one round trip (statements in this order)."""
        symbols = {e.item.instrument_symbol for e in new}
        sells = [e.item for e in new if e.item.side == Order.Side.SELL]
        clusters = {o.cluster_id for o in sells}
        answers = reads_together(
            {
                "instruments": instruments_lock_read(symbols),
                "order_ids": ids_read(Order, len(new)),
                "ledger": settlement.LedgerSnapshot.reads(
                    {e.participant.pk for e in new}, entries=len(new)
                ),
                "capacity": capacity.reads(clusters, symbols),
                "sellers": sellers.reads(clusters, {o.participant_id for o in sells}),
                "missed": books.missed_reads(symbols),
                "suspended": regions_suspended_read(),
            }
        )
        return LockedReads(
            instruments=answers["instruments"],
            order_ids=iter(answers["order_ids"]),
            ledger=settlement.LedgerSnapshot.from_reads(answers["ledger"]),
            capacity=capacity.Tally.from_reads(answers["capacity"]),
            sellers=sellers.Sellers.from_reads(answers["sellers"]),
            missed=answers["missed"],
            suspended=answers["suspended"],
        )

    def _check_and_match(self, entry: Entry, work: _Work) -> Outcome | _Step:
        order = row_copy(entry.item)  # its own state: a rerun starts afresh
        order.pk = next(work.reads.order_ids)
        instrument = work.reads.instruments.get(order.instrument_symbol)
        try:
            if instrument is None:
                raise _unknown(order.instrument_symbol)
            need = self.check(order, instrument, work)
            events = self.match(order, instrument, work)
        except DomainError as exc:
            return exc
        work.funds.take(participant_id=order.participant_id, amount=need)
        if order.side == Order.Side.SELL:
            work.reads.capacity.add(order, _kept(order, events, instrument), instrument)
        step = _Step(order, entry.participant.user_id, events, need)
        work.steps[instrument.symbol].append(step)
        return step

    def check(self, order: Order, instrument: Instrument, work: _Work) -> Decimal:
        """Every rule the order must meet before it reaches the book; returns what
        it sets aside."""
        rules.check_open(instrument, self.now)
        rules.check_region(order, work.reads.suspended)
        rules.check_terms(order, instrument)
        if order.side == Order.Side.SELL:
            work.reads.capacity.check(order, instrument)
            work.reads.sellers.stamp(order)
        need = rules.order_need(order, instrument)
        work.funds.check(
            participant_id=order.participant_id,
            amount=need,
            need=rules.need_text(order, need),
        )
        return need

    def match(
        self, order: Order, instrument: Instrument, work: _Work
    ) -> list[engine.Event]:
        """The engine places the order on the warm book."""
        command = work.command(instrument)
        order.instrument = instrument
        order.conversion_version, order.surcharge_version = table_versions(
            instrument.conversion_table_id, instrument.surcharge_table_id
        )
        events = command.book.place(
            _engine_order(order, instrument), codec.instant(self.now)
        )
        rules.check_not_rejected(events)
        command.orders[order.pk] = order
        command.new.add(order.pk)  # written by `commit`
        order.placed_through = command.book.sequence
        return events

    def persist(self, work: _Work) -> None:
        """Each instrument's events, once every order has been matched: the orders
        they name are loaded, their holds locked and trade keys reserved once."""
        for symbol, steps in work.steps.items():
            segments = [(step.cause, step.events) for step in steps]
            trades = work.commands[symbol].apply_segments(segments)
            for step, fills in zip(steps, trades, strict=True):
                step.fills = fills

    def commit(self, work: _Work) -> None:
        """Holds settled, the ledger posted, every row written: the writes nothing
        reads back in one round trip."""
        if not work.commands:
            return
        with writes_together():
            for command in work.commands.values():
                command.settle()
            try:
                work.batch.commit()
            except settlement.InsufficientFunds as exc:
                raise self._refusal(work, exc) from exc
            for command in work.commands.values():
                command.write()

    def _refusal(
        self, work: _Work, exc: settlement.InsufficientFunds
    ) -> settlement.InsufficientFunds:
        """The ledger's refusal of one order placed in exact mode (its balance moved
        since the snapshot), in the words of the check that let it through."""
        steps = [step for steps in work.steps.values() for step in steps]
        if not self.exact or len(steps) != 1:
            return exc  # the fast pass: its caller decides again, order by order
        order, need = steps[0].order, steps[0].need
        if exc.account != settlement.available_account(order.participant_id):
            return exc
        return settlement.InsufficientFunds.for_need(
            rules.need_text(order, need), exc.available
        )


def _replay_or_error(entry: Entry) -> Outcome:
    """A concurrent request with the same client_order_id won: its replay."""
    try:
        found = replay(entry.participant, entry.request)
    except DomainError as exc:
        return exc
    if found is None:
        return OrderFailed("This order could not be placed; nothing was done.")
    return found


def _unknown(symbol: str) -> InvalidOrder:
    message = f"Unknown instrument {symbol!r}."
    return InvalidOrder(message, fields={"instrument": [message]})


def _kept(order: Order, events: list[engine.Event], instrument: Instrument):
    """What an order placed with these events keeps after them (filled or resting):
    its quantity less what was cancelled at once (an IOC's rest)."""
    cancelled = sum(
        e.remaining
        for e in events
        if isinstance(e, engine.Cancelled | engine.Expired) and e.order_id == order.pk
    )
    return order.quantity - codec.decimal_steps(cancelled, instrument.lot_size)


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
        attributes=None if buy else sellers.attributes(order),
    )


@caches.memoize(maxsize=1024)
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
