"""Warm books: each process keeps one engine `Book` per instrument.

Under the instrument's row lock, `book_checkout` compares the book's last applied
sequence number with the instrument's: equal, the book is current; behind by a little,
it applies the events it missed from `OrderEvent`; otherwise (cold, far behind, or
ahead because a transaction that changed it rolled back) it is rebuilt from the open
orders. Entry points also drop the books a failed attempt touched, so a rolled-back
change never survives in memory.
"""

import threading
from decimal import ROUND_HALF_UP

from exchange import codec, engine
from exchange.models import Instrument, Order, OrderEvent
from market.db import Read, reads_together, values_from_rows
from market.models import Region, Surcharge

CATCH_UP_LIMIT = 1000

_books: dict[int, engine.Book] = {}
_ids: dict[str, int] = {}  # symbol -> instrument id, of the books kept
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


def resting_order(order: Order) -> engine.RestingOrder:
    instrument = order.instrument
    return engine.RestingOrder(
        order_id=order.pk,
        participant_id=order.participant_id,
        side=codec.SIDES[order.side],
        price=codec.steps(order.price, instrument.tick_size, "price"),
        remaining=codec.steps(
            order.remaining_quantity, instrument.lot_size, "quantity"
        ),
        priority=order.sequence,
        tif=codec.TIFS[order.time_in_force],
        region=order.region.code,
        stack=order.stack.code if order.stack_id else None,
        constraints=codec.constraints_engine(order.constraints)
        if order.side == Order.Side.BUY
        else None,
        post_only=order.post_only,
        expires_at=codec.instant(order.expires_at),
    )


def book_rebuild(instrument: Instrument) -> engine.Book:
    """A book from the instrument's open orders (caller holds the instrument lock)."""
    orders = (
        Order.objects.filter(instrument=instrument, status__in=Order.OPEN_STATUSES)
        .select_related("region", "stack", "instrument")
        .order_by("sequence")
    )
    return engine.Book.restore(
        network_build(instrument),
        [resting_order(o) for o in orders],
        instrument.sequence,
    )


def book_checkout(instrument: Instrument, missed: list | None = None) -> engine.Book:
    """The instrument's book, current with the database. Caller holds the instrument's
    row lock (select_for_update) for the rest of its transaction. `missed`: what
    `missed_read` read after the lock was taken, if the caller sent it along."""
    with _registry_lock:
        book = _books.get(instrument.pk)
    behind = None if book is None else instrument.sequence - book.sequence
    if behind is None or behind < 0 or behind > CATCH_UP_LIMIT:
        book = book_rebuild(instrument)
    elif behind:
        rows = [row for row in missed or () if row[1] > book.sequence]
        if len(rows) != behind:  # read for an older book, or not read: read now
            rows = _missed(instrument, book.sequence)
        book.apply(
            codec.event_from_row(kind, seq, order_id, data)
            for kind, seq, order_id, data in rows
        )
    with _registry_lock:
        _books[instrument.pk] = book
        _ids[instrument.symbol] = instrument.pk
    touched().add(instrument.pk)
    return book


def missed_read(symbol: str) -> Read | None:
    """What this process's warm book of `symbol` has not applied yet, as a read to
    send after the instrument's lock in the same round trip (None: no warm book).
    `book_checkout` takes it, and reads again if another thread moved the book on
    meanwhile."""
    with _registry_lock:
        instrument_id = _ids.get(symbol)
        book = _books.get(instrument_id)
    return None if book is None else _missed_read(instrument_id, book.sequence)


def _missed(instrument: Instrument, after: int) -> list[list]:
    return reads_together(_missed_read(instrument.pk, after))[0]


def _missed_read(instrument_id: int, after: int) -> Read:
    """The instrument's events after sequence `after`, as (kind, sequence, order id,
    data): plain SQL, whose values the fields' converters read as the ORM would (it
    took 5 ms for the 150 events another process's batch leaves, under the lock)."""
    meta = OrderEvent._meta
    fields = [meta.get_field(name) for name in ("kind", "sequence", "order", "data")]
    sql = (
        f"SELECT kind, sequence, order_id, data FROM {meta.db_table} "  # noqa: S608
        "WHERE instrument_id = %s AND sequence > %s ORDER BY sequence LIMIT %s"
    )
    return Read(
        sql,
        [instrument_id, after, CATCH_UP_LIMIT + 1],
        lambda rows: values_from_rows(rows, fields),
    )


def touched() -> set[int]:
    if not hasattr(_attempt, "instruments"):
        _attempt.instruments = set()
    return _attempt.instruments


def discard_touched() -> None:
    """Drop the books the current attempt changed: its transaction rolled back."""
    with _registry_lock:
        for instrument_id in touched():
            _books.pop(instrument_id, None)
    touched().clear()


def forget_touched() -> None:
    """The attempt committed: its books are current."""
    touched().clear()


def clear() -> None:
    """Drop every warm book and cached table lookup (tests, or after a repair)."""
    from exchange.services import apply, bands, capacity, placement, requests

    with _registry_lock:
        _books.clear()
        _ids.clear()
    capacity.table_factor.cache_clear()
    placement.table_versions.cache_clear()
    bands._max_surcharge.cache_clear()
    apply._cluster_chip.cache_clear()
    requests._clusters.clear()
