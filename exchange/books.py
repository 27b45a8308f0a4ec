"""Warm books: each process keeps one engine `Book` per instrument.

Under the instrument's row lock, `book_checkout` compares the book's last applied
sequence number with the instrument's: equal, the book is current; behind by no more
than it would cost to rebuild (`catch_up_limit`), it applies the events it missed from
`OrderEvent`; otherwise (cold, far behind, or ahead because a transaction that changed
it rolled back) it is rebuilt from the open orders. Entry points also drop the books a
failed attempt touched, so a rolled-back change never survives in memory.

`book_copy` gives a reader (an order's preview) a private book at the sequence
number its consistent snapshot read, without the lock: a copy of the warm book
when no transaction has it checked out, brought to that number the same way.
"""

import threading
from decimal import ROUND_HALF_UP

from core import caches
from core.db import Read, read_now
from exchange import codec, engine
from exchange.models import Instrument, Order
from exchange.persistence import events_after_read
from market.models import Region, Surcharge

# A book catches up on at most this many missed events, or on CATCH_UP_PER_ORDER per
# order it holds if that is more; further behind, it is rebuilt (a rebuild costs
# about as much per open order as catching up does per event: docs/performance.md).
CATCH_UP_LIMIT = 1000
CATCH_UP_PER_ORDER = 1

_books: dict[int, engine.Book] = {}
_ids: dict[str, int] = {}  # symbol -> instrument id, of the books kept
# Per instrument id: the transactions that have its book checked out now, and a
# count of checkouts and returns, so a copy can tell that none overlapped it.
_out: dict[int, int] = {}
_turns: dict[int, int] = {}
_registry_lock = threading.Lock()
_attempt = threading.local()


def network_build(instrument: Instrument) -> engine.Network:
    """The instrument's frozen surcharge table in ticks, with latencies and the
    regions' green shares."""
    tick = instrument.tick_size
    surcharge, latency = {}, {}
    rows = Surcharge.objects.filter(table_id=instrument.surcharge_table_id).values_list(
        "sell_region__code", "buy_region__code", "surcharge", "latency_ms"
    )
    for sell, buy, amount, latency_ms in rows:
        surcharge[sell, buy] = int((amount / tick).quantize(1, ROUND_HALF_UP))
        latency[sell, buy] = latency_ms
    green = dict(Region.objects.values_list("code", "green_share"))
    return engine.Network(surcharge, latency, green)


_RESTING_FIELDS = (
    "id",
    "participant_id",
    "side",
    "price",
    "remaining_quantity",
    "sequence",
    "time_in_force",
    "region__code",
    "stack__code",
    "constraints",
    "post_only",
    "expires_at",
    "cluster__chip__code",
    "cluster__chip__vendor",
    "cluster__chip__memory_gb",
    "confidential",
    "certifications",
    "reliability",
)


def resting_order(instrument: Instrument, values: tuple) -> engine.RestingOrder:
    """The engine's view of an open order, from its `_RESTING_FIELDS`."""
    (
        pk,
        participant_id,
        side,
        price,
        remaining,
        sequence,
        tif,
        region,
        stack,
        constraints,
        post_only,
        expires_at,
        *sell_attributes,
    ) = values
    buy = side == Order.Side.BUY
    return engine.RestingOrder(
        order_id=pk,
        participant_id=participant_id,
        side=codec.SIDES[side],
        price=codec.steps(price, instrument.tick_size, "price"),
        remaining=codec.steps(remaining, instrument.lot_size, "quantity"),
        priority=sequence,
        tif=codec.TIFS[tif],
        region=region,
        stack=stack,
        constraints=codec.constraints_engine(constraints) if buy else None,
        post_only=post_only,
        expires_at=codec.instant(expires_at),
        attributes=None if buy else codec.attributes_engine(*sell_attributes),
    )


def book_rebuild(instrument: Instrument) -> engine.Book:
    """A book from the instrument's open orders (caller holds the instrument lock).
    Rows as tuples, not models: it runs under the lock, once per open order."""
    rows = (
        Order.objects.filter(instrument=instrument, status__in=Order.OPEN_STATUSES)
        .order_by("sequence")
        .values_list(*_RESTING_FIELDS)
    )
    return engine.Book.restore(
        network_build(instrument),
        [resting_order(instrument, row) for row in rows],
        instrument.sequence,
    )


def catch_up_limit(book: engine.Book) -> int:
    """How many missed events `book` catches up on before it is rebuilt instead."""
    return max(CATCH_UP_LIMIT, CATCH_UP_PER_ORDER * len(book))


def book_checkout(instrument: Instrument, missed: list | None = None) -> engine.Book:
    """The instrument's book, current with the database. Caller holds the instrument's
    row lock (select_for_update) for the rest of its transaction. `missed`: what
    `missed_read` read after the lock was taken, if the caller sent it along."""
    pk = instrument.pk
    with _registry_lock:
        book = _books.get(pk)
        if pk not in touched():
            _out[pk] = _out.get(pk, 0) + 1
        _turns[pk] = _turns.get(pk, 0) + 1
    touched().add(pk)
    book = _brought_to(instrument, book, missed)
    with _registry_lock:
        _books[pk] = book
        _ids[instrument.symbol] = pk
    return book


def _brought_to(
    instrument: Instrument, book: engine.Book | None, missed: list | None = None
) -> engine.Book:
    """`book` (None: cold) at `instrument.sequence`: caught up on the events it
    missed, or rebuilt from the open orders."""
    behind = None if book is None else instrument.sequence - book.sequence
    if book is None or behind is None or behind < 0 or behind > catch_up_limit(book):
        return book_rebuild(instrument)
    if behind:
        rows = [row for row in missed or () if row[1] > book.sequence]
        if len(rows) != behind:  # read for an older book, or not read: read now
            rows = _missed(instrument, book)
        book.apply(
            codec.event_from_row(kind, seq, order_id, data)
            for kind, seq, order_id, data in rows
        )
    return book


def book_copy(instrument: Instrument) -> engine.Book:
    """A private book at `instrument.sequence`, for a reader inside a consistent
    snapshot (which `instrument` was read in), without the instrument's lock: a
    copy of the warm book, taken while no transaction had it checked out (nothing
    changes it then) and brought to that number, else one rebuilt. Changing it
    changes no warm book."""
    pk = instrument.pk
    with _registry_lock:
        book, out, turn = _books.get(pk), _out.get(pk, 0), _turns.get(pk, 0)
    copy = None if book is None or out else _copied(book, pk, turn)
    return _brought_to(instrument, copy)


def _copied(book: engine.Book, pk: int, turn: int) -> engine.Book | None:
    """A copy of instrument `pk`'s warm `book`, or None when a checkout began
    while it was taken (`turn` moved on): the copy may be torn then, or fail."""
    try:
        copy = engine.Book.restore(book.network, book.orders(), book.sequence)
    except Exception:
        with _registry_lock:
            if _turns.get(pk, 0) != turn:
                return None
        raise
    with _registry_lock:
        return copy if _turns.get(pk, 0) == turn else None


def missed_reads(symbols: set[str]) -> dict[str, Read]:
    """What this process's warm books of `symbols` have not applied yet, as reads to
    send after the instruments' lock in the same round trip, by symbol (none for a
    symbol without a warm book). `book_checkout` takes them, and reads again if
    another thread moved the book on meanwhile."""
    reads = {}
    for symbol in sorted(symbols):
        with _registry_lock:
            instrument_id = _ids.get(symbol)
            book = _books.get(instrument_id)
        if book is not None:
            reads[symbol] = events_after_read(
                instrument_id, book.sequence, catch_up_limit(book)
            )
    return reads


def _missed(instrument: Instrument, book: engine.Book) -> list[list]:
    return read_now(
        events_after_read(instrument.pk, book.sequence, catch_up_limit(book))
    )


def warm(symbol: str) -> engine.Book | None:
    """This process's warm book of `symbol` as last applied, without catching up
    (None when cold). Read it under the instrument's row lock: whoever changes a
    book holds that lock."""
    with _registry_lock:
        return _books.get(_ids.get(symbol))


def touched() -> set[int]:
    if not hasattr(_attempt, "instruments"):
        _attempt.instruments = set()
    return _attempt.instruments


def discard_touched() -> None:
    """Drop the books the current attempt changed: its transaction rolled back."""
    with _registry_lock:
        for instrument_id in touched():
            _books.pop(instrument_id, None)
    _returned()


def forget_touched() -> None:
    """The attempt committed: its books are current."""
    _returned()


def _returned() -> None:
    """The current attempt's books are checked in again."""
    with _registry_lock:
        for instrument_id in touched():  # (`clear` may have reset the counts)
            _out[instrument_id] = max(_out.get(instrument_id, 0) - 1, 0)
            _turns[instrument_id] = _turns.get(instrument_id, 0) + 1
    touched().clear()


def discard(symbol: str) -> None:
    """Drop the warm book of `symbol`: a savepoint rolled back what changed it."""
    with _registry_lock:
        _books.pop(_ids.get(symbol), None)


def clear() -> None:
    """Drop every warm book and every registered cache (tests, or after a repair)."""
    with _registry_lock:
        _books.clear()
        _ids.clear()
        _out.clear()
        _turns.clear()
    touched().clear()
    caches.clear()
