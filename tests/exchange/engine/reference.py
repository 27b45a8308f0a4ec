"""A brute-force reference matcher: the market rules, written out literally.

It keeps one flat list of resting orders and scans all of them for every decision
(O(n) per step), with no buckets, caches, heaps or tombstones, so that the fast
`exchange.engine.Book` can be checked against it event for event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exchange.engine import (
    Accepted,
    Amended,
    Attributes,
    Cancelled,
    Constraints,
    Event,
    Expired,
    Fill,
    Network,
    NewOrder,
    RejectCode,
    Rejected,
    RestingOrder,
    Side,
    TimeInForce,
)

BUY, SELL = Side.BUY, Side.SELL
GTC, GTD, IOC, FOK = (
    TimeInForce.GTC,
    TimeInForce.GTD,
    TimeInForce.IOC,
    TimeInForce.FOK,
)


@dataclass
class _Ref:
    order: NewOrder
    price: int
    remaining: int
    priority: int

    @property
    def pid(self) -> int:
        return self.order.participant_id

    def expired(self, now: Any) -> bool:
        exp = self.order.expires_at
        return exp is not None and exp <= now


def surcharge_if_compatible(
    net: Network,
    sell_region: Any,
    stack: Any,
    buy_region: Any,
    c: Constraints,
    attributes: Attributes | None = None,
) -> int | None:
    """The compatibility rule, from the raw network tables and the sell's
    attributes (none known: every attribute constraint fails)."""
    s = net.surcharge.get((sell_region, buy_region))
    if s is None and sell_region == buy_region:
        s = 0
    if s is None:
        return None
    if c.stacks is not None and stack not in c.stacks:
        return None
    if c.max_latency_ms is not None:
        lat = net.latency_ms.get((sell_region, buy_region))
        if lat is None and sell_region == buy_region:
            lat = 0
        if lat is None or lat > c.max_latency_ms:
            return None
    if c.regions is not None and sell_region not in c.regions:
        return None
    if c.min_green_share is not None:
        g = net.green_share.get(sell_region)
        if g is None or g < c.min_green_share:
            return None
    if not attributes_meet(attributes, c):
        return None
    return s


def attributes_meet(a: Attributes | None, c: Constraints) -> bool:
    """Whether a sell's attributes meet every attribute constraint of a buy."""
    if c.chips is not None and (a is None or a.chip not in c.chips):
        return False
    if c.vendors is not None and (a is None or a.vendor not in c.vendors):
        return False
    if c.min_memory_gb is not None and (
        a is None or a.memory_gb is None or a.memory_gb < c.min_memory_gb
    ):
        return False
    if c.confidential and (a is None or not a.confidential):
        return False
    if c.certifications and (a is None or not c.certifications <= a.certifications):
        return False
    return c.min_reliability is None or (
        a is not None
        and a.reliability is not None
        and a.reliability >= c.min_reliability
    )


def invalid(o: NewOrder, now: Any) -> bool:
    bad = o.quantity <= 0 or o.price <= 0
    bad |= o.tif not in (GTC, GTD, IOC, FOK) or o.side not in (BUY, SELL)
    bad |= o.tif == GTD and (o.expires_at is None or o.expires_at <= now)
    bad |= o.tif != GTD and o.expires_at is not None
    bad |= o.market and (o.tif in (GTC, GTD) or o.post_only)
    bad |= o.post_only and o.tif in (IOC, FOK)
    if o.side == BUY:
        bad |= o.constraints is None or o.stack is not None
    else:
        bad |= o.stack is None or o.constraints is not None
    bad |= o.side == BUY and o.attributes is not None
    return bad


class ReferenceBook:
    def __init__(self, network: Network, *, sequence: int = 0) -> None:
        self.network = network
        self.sequence = sequence
        self.resting: list[_Ref] = []

    # -- helpers --------------------------------------------------------------

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence

    def _find(self, order_id: int) -> _Ref | None:
        return next((r for r in self.resting if r.order.order_id == order_id), None)

    def _surcharge(self, sell: NewOrder, buy: NewOrder) -> int | None:
        assert buy.constraints is not None
        return surcharge_if_compatible(
            self.network,
            sell.region,
            sell.stack,
            buy.region,
            buy.constraints,
            sell.attributes,
        )

    def _crossing(
        self, inc: NewOrder, limit: int
    ) -> list[tuple[tuple[int, int], _Ref, int]]:
        """(rank, resting, surcharge) of every compatible resting order crossed."""
        out = []
        for r in self.resting:
            if r.order.side == inc.side:
                continue
            if inc.side == BUY:
                s = self._surcharge(r.order, inc)
                if s is not None and r.price + s <= limit:
                    out.append(((r.price + s, r.priority), r, s))
            else:
                s = self._surcharge(inc, r.order)
                if s is not None and r.price - s >= limit:
                    out.append(((-(r.price - s), r.priority), r, s))
        return out

    def _sweep(self, now: Any) -> list[Event]:
        due = [r for r in self.resting if r.expired(now)]
        due.sort(key=lambda r: (r.order.expires_at, r.priority))
        events: list[Event] = []
        for r in due:
            events.append(Expired(self._next(), r.order.order_id, r.remaining))
            self.resting.remove(r)
        return events

    def _cancel(self, r: _Ref, reason: str) -> Event:
        self.resting.remove(r)
        return Cancelled(self._next(), r.order.order_id, reason, r.remaining)

    def _take(self, inc: NewOrder, limit: int, rem: int, events: list[Event]) -> int:
        while rem:
            cands = self._crossing(inc, limit)
            if not cands:
                break
            _, r, s = min(cands, key=lambda c: c[0])
            if r.pid == inc.participant_id:
                events.append(self._cancel(r, "self_trade"))
                continue
            qty = min(rem, r.remaining)
            rem -= qty
            r.remaining -= qty
            if r.remaining == 0:
                self.resting.remove(r)
            me, it = inc.order_id, r.order.order_id
            if inc.side == BUY:
                events.append(
                    Fill(
                        self._next(), me, it, it, me, r.price, s, qty, rem, r.remaining
                    )
                )
            else:
                site = r.price - s
                events.append(
                    Fill(self._next(), it, me, it, me, site, s, qty, r.remaining, rem)
                )
        return rem

    def _others_crossing(self, inc: NewOrder, limit: int, now: Any) -> list[_Ref]:
        return [
            r
            for _, r, _ in self._crossing(inc, limit)
            if r.pid != inc.participant_id and not r.expired(now)
        ]

    # -- commands -------------------------------------------------------------

    def place(self, o: NewOrder, now: Any) -> list[Event]:
        if invalid(o, now):
            return [Rejected(o.order_id, RejectCode.INVALID)]
        if self._find(o.order_id) is not None:
            return [Rejected(o.order_id, RejectCode.DUPLICATE_ORDER_ID)]
        if o.post_only and self._others_crossing(o, o.price, now):
            return [Rejected(o.order_id, RejectCode.POST_ONLY_WOULD_CROSS)]
        if o.tif == FOK:
            available = sum(r.remaining for r in self._others_crossing(o, o.price, now))
            if available < o.quantity:
                return [Rejected(o.order_id, RejectCode.FOK_NOT_FILLABLE)]
        events = self._sweep(now)
        seq = self._next()
        events.append(Accepted(seq, o.order_id, o))
        rem = o.quantity if o.post_only else self._take(o, o.price, o.quantity, events)
        if rem and o.tif in (GTC, GTD):
            self.resting.append(_Ref(o, o.price, rem, seq))
        elif rem:
            events.append(Cancelled(self._next(), o.order_id, "ioc", rem))
        return events

    def cancel(self, order_id: int, now: Any, reason: str = "user") -> list[Event]:
        r = self._find(order_id)
        if r is None:
            return [Rejected(order_id, RejectCode.ORDER_NOT_OPEN)]
        if r.expired(now):
            return self._sweep(now)
        events = self._sweep(now)
        events.append(self._cancel(r, reason))
        return events

    def amend(
        self,
        order_id: int,
        now: Any,
        *,
        price: int | None = None,
        remaining: int | None = None,
        attributes: Attributes | None = None,
    ) -> list[Event]:
        if (
            (price is None and remaining is None)
            or (price is not None and price <= 0)
            or (remaining is not None and remaining < 1)
        ):
            return [Rejected(order_id, RejectCode.INVALID)]
        r = self._find(order_id)
        if r is None:
            return [Rejected(order_id, RejectCode.ORDER_NOT_OPEN)]
        if attributes is not None and r.order.side == BUY:
            return [Rejected(order_id, RejectCode.INVALID)]
        if r.expired(now):
            return self._sweep(now)
        new_price = r.price if price is None else price
        new_rem = r.remaining if remaining is None else remaining
        keeps = new_price == r.price and new_rem <= r.remaining
        # A sell that loses its place takes the attributes it is given.
        moved = not keeps and attributes is not None
        moved = moved and attributes != r.order.attributes
        spec = r.order._replace(attributes=attributes) if moved else r.order
        if not keeps and spec.post_only and self._others_crossing(spec, new_price, now):
            return [Rejected(order_id, RejectCode.POST_ONLY_WOULD_CROSS)]
        events = self._sweep(now)
        seq = self._next()
        if keeps:
            events.append(Amended(seq, order_id, new_price, new_rem, r.priority))
            r.remaining = new_rem
            return events
        new_attributes = attributes if moved else None
        events.append(Amended(seq, order_id, new_price, new_rem, seq, new_attributes))
        self.resting.remove(r)
        if not spec.post_only:
            new_rem = self._take(spec, new_price, new_rem, events)
        if new_rem:
            self.resting.append(_Ref(spec, new_price, new_rem, seq))
        return events

    def expire(self, now: Any) -> list[Event]:
        return self._sweep(now)

    def close(self, now: Any, reason: str = "gate") -> list[Event]:
        events = self._sweep(now)
        for r in sorted(self.resting, key=lambda r: r.priority):
            events.append(self._cancel(r, reason))
        return events

    def cancel_all(
        self, participant_id: int, now: Any, side: Side | None = None
    ) -> list[Event]:
        events = self._sweep(now)
        mine = [
            r
            for r in self.resting
            if r.pid == participant_id and (side is None or r.order.side == side)
        ]
        for r in sorted(mine, key=lambda r: r.priority):
            events.append(self._cancel(r, "user"))
        return events

    # -- reads ------------------------------------------------------------------

    def orders(self) -> list[RestingOrder]:
        out = []
        for r in sorted(self.resting, key=lambda r: r.priority):
            o = r.order
            out.append(
                RestingOrder(
                    order_id=o.order_id,
                    participant_id=o.participant_id,
                    side=o.side,
                    price=r.price,
                    remaining=r.remaining,
                    priority=r.priority,
                    tif=o.tif,
                    region=o.region,
                    stack=o.stack,
                    constraints=o.constraints,
                    post_only=o.post_only,
                    expires_at=o.expires_at,
                    attributes=o.attributes,
                )
            )
        return out

    def _side(self, side: Side) -> list[_Ref]:
        return [r for r in self.resting if r.order.side == side]

    def best_ask(self) -> int | None:
        return min((r.price for r in self._side(SELL)), default=None)

    def best_bid(self) -> int | None:
        return max((r.price for r in self._side(BUY)), default=None)

    def asks(self) -> list[tuple[int, Any, Any, int]]:
        totals: dict[tuple[int, Any, Any], int] = {}
        for r in self._side(SELL):
            key = (r.price, r.order.region, r.order.stack)
            totals[key] = totals.get(key, 0) + r.remaining
        rows = [(p, a, st, q) for (p, a, st), q in totals.items()]
        return sorted(rows, key=lambda x: (x[0], repr(x[1]), repr(x[2])))

    def bids(self) -> list[tuple[int, Any, int]]:
        totals: dict[tuple[int, Any], int] = {}
        for r in self._side(BUY):
            key = (r.price, r.order.region)
            totals[key] = totals.get(key, 0) + r.remaining
        rows = [(p, b, q) for (p, b), q in totals.items()]
        return sorted(rows, key=lambda x: (-x[0], repr(x[1])))

    def locational_price(self, region: Any, stack: Any = None) -> int | None:
        unconstrained = Constraints()
        prices = []
        for r in self._side(SELL):
            if stack is not None and r.order.stack != stack:
                continue
            s = surcharge_if_compatible(
                self.network, r.order.region, r.order.stack, region, unconstrained
            )
            if s is not None:
                prices.append(r.price + s)
        return min(prices, default=None)
