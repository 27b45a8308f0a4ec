"""The reads of the event log that the streams make (ORM only, no locks).

Every read sees only committed rows, and a transaction commits all of a command's
events at once, so whatever `rows_after` returns ends at a command's end; a read cut
by its limit is trimmed back to the start of the last command it holds.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from rest_framework.fields import DateTimeField

from exchange.models import Instrument, Order, OrderEvent, Trade
from market import selectors as market_selectors

ACTIVE = (Instrument.State.OPEN, Instrument.State.HALTED)
_TIME = DateTimeField()


@dataclass(frozen=True, slots=True)
class Head:
    """An instrument as the streams need it: its last sequence number and state."""

    pk: int
    symbol: str
    sequence: int
    state: str
    tick: Decimal
    lot: Decimal
    closed_at: datetime | None


def heads(*, ids=(), symbols=(), active_since: datetime | None = None) -> list[Head]:
    """The named instruments, and with `active_since` every open or halted one and
    every one closed after it."""
    where = Q(pk__in=list(ids)) | Q(symbol__in=list(symbols))
    if active_since is not None:
        where |= Q(state__in=ACTIVE) | Q(closed_at__gt=active_since)
    rows = Instrument.objects.filter(where).values_list(
        "pk", "symbol", "sequence", "state", "tick_size", "lot_size", "closed_at"
    )
    return [Head(*row) for row in rows]


def rows_after(instrument_id: int, after: int, limit: int) -> tuple[list, bool]:
    """Log rows `(seq, kind, order_id, data, participant_id)` after `after`, in
    order, and whether they reach the end of what has committed."""
    rows = list(
        OrderEvent.objects.filter(instrument_id=instrument_id, sequence__gt=after)
        .order_by("sequence")
        .values_list("sequence", "kind", "order_id", "data", "order__participant_id")[
            :limit
        ]
    )
    if len(rows) < limit:
        return rows, True
    starts = [i for i, r in enumerate(rows) if _starts_command(r) and i > 0]
    return (rows[: starts[-1]] if starts else rows), False


def _starts_command(row) -> bool:
    seq, kind, _order, data, _participant = row
    return kind == "accepted" or (kind == "amended" and data["priority_seq"] == seq)


def trades_between(instrument: Head, low: int, high: int) -> dict[int, dict]:
    """The trades of sequence numbers in (low, high], by sequence number: the public
    print (`GET .../trades/` plus symbol and seq) under "print", and who traded."""
    rows = Trade.objects.filter(
        instrument_id=instrument.pk, sequence__gt=low, sequence__lte=high
    ).values_list(
        "sequence",
        "id",
        "price",
        "all_in_price",
        "quantity",
        "sell_region__code",
        "buy_region__code",
        "aggressor",
        "executed_at",
        "buyer_id",
        "seller_id",
    )
    out = {}
    for seq, pk, price, all_in, qty, sell, buy, aggressor, at, buyer, seller in rows:
        public = {
            "symbol": instrument.symbol,
            "seq": seq,
            "id": pk,
            "price": str(price),
            "all_in_price": str(all_in),
            "quantity": str(qty),
            "sell_region": sell,
            "buy_region": buy,
            "aggressor": aggressor,
            "executed_at": _TIME.to_representation(at),
        }
        out[seq] = {"print": public, "buyer": buyer, "seller": seller, "id": pk}
    return out


_RESTING = ("pk", "side", "price", "region__code", "stack__code", "remaining_quantity")


def resting(instrument: Head) -> tuple[list, int]:
    """The open orders as `(id, side, price ticks, region, stack, remaining lots)`
    and the sequence number they stand at. Two reads: the sequence before and after
    the orders must agree (every change to a book moves it), else read again."""
    for _attempt in range(50):
        before = _sequence(instrument.pk)
        rows = list(
            Order.objects.filter(
                instrument_id=instrument.pk,
                status__in=Order.OPEN_STATUSES,
                remaining_quantity__gt=0,
            ).values_list(*_RESTING)
        )
        if _sequence(instrument.pk) == before:
            tick, lot = instrument.tick, instrument.lot
            return [
                (pk, side, int(price / tick), region, stack, int(remaining / lot))
                for pk, side, price, region, stack, remaining in rows
            ], before
    raise RuntimeError(f"{instrument.symbol} never stood still long enough to read")


def _sequence(instrument_id: int) -> int:
    return Instrument.objects.values_list("sequence", flat=True).get(pk=instrument_id)


def last_command(instrument_id: int, through: int) -> list:
    """The rows of the last command up to `through`, from its accept or amend (the
    numbering of `through`'s events depends on nothing earlier)."""
    start = (
        OrderEvent.objects.filter(
            instrument_id=instrument_id,
            sequence__lte=through,
            kind__in=("accepted", "amended"),
        )
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    ) or through
    return list(
        OrderEvent.objects.filter(
            instrument_id=instrument_id, sequence__gte=start, sequence__lte=through
        )
        .order_by("sequence")
        .values_list("sequence", "kind", "order_id", "data", "order__participant_id")
    )


def instruments_of(participant_id: int, ids: list[int]) -> list[int]:
    """Which of these instruments the participant has orders on."""
    return list(
        Order.objects.filter(participant_id=participant_id, instrument_id__in=ids)
        .values_list("instrument_id", flat=True)
        .distinct()
    )


def participant_rows(instrument_id: int, low: int, high: int, participant_id: int):
    """The rows in (low, high] that touch the participant's orders: its own, and
    the fills of its resting orders (a fill's row names the taker's order)."""
    span = {"instrument_id": instrument_id, "sequence__gt": low, "sequence__lte": high}
    fills = Trade.objects.filter(
        Q(buyer_id=participant_id) | Q(seller_id=participant_id), **span
    ).values("sequence")
    return list(
        OrderEvent.objects.filter(**span)
        .filter(Q(order__participant_id=participant_id) | Q(sequence__in=fills))
        .order_by("sequence")
        .values_list("sequence", "kind", "order_id", "data", "order__participant_id")
    )


def regions_suspended() -> dict[str, str]:
    """The regions suspended now: {code: the operator's reason}."""
    return {code: s.reason for code, s in market_selectors.regions_suspended().items()}
