"""A participant's own events on the private stream, rendered from log rows.

`order`: the order as `GET /orders/{id}/` shows it, as it stood after that event
(status, quantities, average price and price as of the event; names and times as
now), with `change` (accepted, fill, cancelled, expired, amended) and `change_seq`;
`fill`: the fill as `/fills/` shows it, carbon included; `delivery` (a report, a
confirmation, a dispute) and `settlement`, from settlement's records of the trade.
Within one sequence number a participant's events come in a fixed order (its
orders, then its fills), which is what lets a position count them.

How an order and a fill look is the API's (its serializers); the API serves the
streams, so it hands them over when it loads (`represent_with`), and the streams
never import it.
"""

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from rest_framework.fields import DateTimeField

from exchange.models import Order, Trade
from exchange.streams import log
from exchange.streams.feeds import dumps
from exchange.streams.positions import Point, PrivatePosition
from settlement import interface as settlement

CENT = Decimal("0.0001")
_TIME = DateTimeField()
_api = None


def represent_with(order_output, fill_output) -> None:
    """The API's order serializer (an instance) and fill serializer (a class)."""
    global _api
    _api = (order_output, fill_output)


type Rendered = list[tuple[int, str, str]]  # (seq, event name, JSON data)


def involved(rows: list, trades: dict, wanted) -> list[tuple[int, int, int, str]]:
    """`(seq, participant, order_id, side or "")` for each order of a wanted
    participant that a row changed; a fill names both its orders."""
    out = []
    for seq, kind, order_id, _data, participant in rows:
        if kind == "fill":
            trade = trades[seq]
            for side, who in (("buy", trade["buyer"]), ("sell", trade["seller"])):
                if who in wanted:
                    out.append((seq, who, _data[f"{side}_order_id"], side))
        elif participant in wanted:
            out.append((seq, participant, order_id, ""))
    return out


def render(rows: list, trades: dict, wanted) -> dict[int, Rendered]:
    """Per wanted participant, its events among `rows` in order."""
    hits = involved(rows, trades, wanted)
    if not hits:
        return {}
    by_seq = {row[0]: row for row in rows}
    orders = {
        o.pk: o
        for o in Order.objects.filter(pk__in={h[2] for h in hits}).select_related(
            "instrument", "region", "stack"
        )
    }
    history = _fills_of(orders, max(h[0] for h in hits))
    fills = _fills(trades, {(h[0], h[1]) for h in hits if h[3]})
    grouped: dict[tuple[int, int], list[int]] = defaultdict(list)
    for seq, who, order_id, _side in hits:  # in log order: dicts keep it
        grouped[seq, who].append(order_id)
    out: dict[int, Rendered] = defaultdict(list)
    for (seq, who), order_ids in grouped.items():
        for order_id in order_ids:
            data = _order_as_of(orders[order_id], by_seq[seq], history[order_id])
            out[who].append((seq, "order", dumps(data)))
        if (seq, who) in fills:
            out[who].append((seq, "fill", dumps(fills[seq, who])))
    return out


def _fills_of(orders: dict[int, Order], through: int) -> dict[int, list]:
    """Each order's fills up to `through`: `(seq, quantity, unit price)`."""
    rows = Trade.objects.filter(
        Q(buy_order_id__in=orders) | Q(sell_order_id__in=orders),
        sequence__lte=through,
    ).values_list(
        "sequence", "buy_order_id", "sell_order_id", "quantity", "price", "all_in_price"
    )
    out: dict[int, list] = defaultdict(list)
    for seq, buy, sell, quantity, price, all_in in rows:
        out[buy].append((seq, quantity, all_in))
        out[sell].append((seq, quantity, price))
    return out


def _fills(trades: dict, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], dict]:
    """The `/fills/` view of each wanted (seq, participant), carbon read in one
    query per participant."""
    objects = {
        t.sequence: t
        for t in Trade.objects.filter(
            pk__in={trades[seq]["id"] for seq, _who in wanted}
        ).select_related("instrument")
    }
    by_who: dict[int, list[int]] = defaultdict(list)
    for seq, who in sorted(wanted):
        by_who[who].append(seq)
    out = {}
    for who, seqs in by_who.items():
        context = {"participant_id": who}
        rendered = _api[1]([objects[s] for s in seqs], many=True, context=context)
        out |= {(s, who): data for s, data in zip(seqs, rendered.data, strict=True)}
    return out


def _order_as_of(order: Order, row, fills: list) -> dict:
    seq, kind, _order_id, data, _participant = row
    inst = order.instrument
    done = [(q, p) for s, q, p in fills if s <= seq]
    filled = sum((q for q, _p in done), Decimal("0.0"))
    value = sum((q * p for q, p in done), Decimal(0))
    order_output = _api[0]
    field = order_output.fields
    out = order_output.to_representation(order)
    price, quantity, sequence = order.price, order.quantity, order.sequence
    if kind == "accepted":
        spec = data["order"]
        price, quantity, sequence = spec["price"] * inst.tick_size, None, seq
        remaining = spec["quantity"] * inst.lot_size
        status = Order.Status.OPEN
    elif kind == "fill":
        remaining = data[f"{order.side}_remaining"] * inst.lot_size
        status = Order.Status.PARTIALLY_FILLED if remaining else Order.Status.FILLED
    elif kind == "amended":
        price = data["price"] * inst.tick_size
        remaining = data["remaining"] * inst.lot_size
        quantity, sequence = None, data["priority_seq"]
        status = Order.Status.PARTIALLY_FILLED if filled else Order.Status.OPEN
    else:
        remaining = Decimal("0.0")
        status = Order.Status(kind)
    out |= {
        "price": field["price"].to_representation(price),
        "quantity": field["quantity"].to_representation(
            quantity if quantity is not None else filled + remaining
        ),
        "status": status.value,
        "cancel_reason": data.get("reason", "") if kind == "cancelled" else "",
        "filled_quantity": field["filled_quantity"].to_representation(filled),
        "remaining_quantity": field["remaining_quantity"].to_representation(remaining),
        "average_price": field["average_price"].to_representation(
            (value / filled).quantize(CENT)
        )
        if filled
        else None,
        "sequence": sequence,
    }
    return out | {"change": kind, "change_seq": seq}


def resume(heads: list[log.Head], base: dict[int, int], settled: tuple, cursor):
    """Where a private stream starts: the events its position has not seen, up to
    `base` (the sequence number read so far, per instrument) and `settled` (the
    deliveries and settlements routed so far), and its points then. Without a
    position, it starts there, on the participant's instruments."""
    position = cursor.resume_from
    events: list = []
    if position is not None and _too_old(position):
        # It carries the point the stream starts from, so that its id, resumed
        # from, does not bring back every delivery and settlement there ever was.
        reset = dumps({"reason": "too_far_behind"})
        events.append((None, settled, "reset", reset))
        position = None
    tracked = set(log.instruments_of(cursor.participant_id, list(base)))
    if position is not None:
        tracked |= set(position.instruments) & set(base)
    points = {pk: (base[pk] + 1, 0) for pk in tracked}
    for head in heads if position is not None else ():
        gap, point = _gap(head, base[head.pk], cursor.participant_id, position)
        if gap:
            events += gap
            points[head.pk] = point
    if position is not None and position.settlement < settled:
        who = cursor.participant_id
        events += settlement_events({who}, position.settlement, settled).get(who, [])
    return events, points


def _gap(head: log.Head, upto: int, participant_id: int, position: PrivatePosition):
    """The participant's events on one instrument that the position has not seen,
    up to `upto`, and the point they follow."""
    start, seen = position.instruments.get(head.pk, (None, 0))
    if start is None:
        written = position.written_ms / 1000
        margin = settings.EXCHANGE_STREAMS_CLOSED_MARGIN_SECONDS
        if head.closed_at and head.closed_at.timestamp() < written - margin:
            return [], None  # closed before that position: nothing of it is new
        start = 0
    low = max(start - 1, 0)
    rows = log.participant_rows(head.pk, low, upto, participant_id)
    if not rows:
        return [], None
    trades = log.trades_between(head, low, upto)
    rendered = render(rows, trades, {participant_id}).get(participant_id, [])
    skipped = len([e for e in rendered if e[0] == start][:seen])
    events = [(head.pk, s, name, data) for s, name, data in rendered[skipped:]]
    point: Point = (start, seen)
    return events, point


def _too_old(position: PrivatePosition) -> bool:
    age = time.time() - position.written_ms / 1000
    return age > settings.EXCHANGE_STREAMS_PRIVATE_MAX_AGE_SECONDS


# --- deliveries and settlement --------------------------------------------------
def settlement_until() -> tuple[int, int, int]:
    """The point up to which delivery and settlement events are final: the rows
    stamp their time inside the transaction that writes them, so the last
    `EXCHANGE_STREAMS_SETTLEMENT_LAG_SECONDS` may still be committing."""
    lag = settings.EXCHANGE_STREAMS_SETTLEMENT_LAG_SECONDS
    return (int((time.time() - lag) * 1_000_000), 9, 0)


def settlement_events(wanted, after: tuple, until: tuple) -> dict[int, list]:
    """Per wanted participant, its deliveries and settlements in (after, until] as
    `(None, point, name, data)`; the point `(µs, rank, id)` orders them."""
    rows = settlement.obligation_events(
        participant_ids=list(wanted),
        since=_instant(after[0]) - timedelta(microseconds=1),
        until=_instant(until[0]),
    )
    out: dict[int, list] = defaultdict(list)
    for at, rank, pk, obligation, change, delivered in rows:
        point = (int(at.timestamp() * 1_000_000), rank, pk)
        if not after < point <= until:
            continue
        for role in ("buyer", "seller"):
            who = getattr(obligation, f"{role}_id")
            if who in wanted:
                data = _obligation(obligation, role, change, delivered, at)
                name = "settlement" if change == "settled" else "delivery"
                out[who].append((None, point, name, dumps(data)))
    return out


def _obligation(obligation, role: str, change: str, delivered, at) -> dict:
    return {
        "trade_id": obligation.trade_id,
        "instrument": obligation.instrument,
        "role": role,
        "change": change,
        "status": obligation.status,
        "quantity": str(obligation.quantity),
        "delivered_quantity": None if delivered is None else str(delivered),
        "at": _TIME.to_representation(at),
    }


def _instant(microseconds: int) -> datetime:
    return datetime.fromtimestamp(microseconds / 1_000_000, UTC)
