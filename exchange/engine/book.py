"""The order book of one instrument: commands in, events out.

Each command takes `now` and returns the events it caused. Rules the market leaves
to the engine, decided here once:

* Expiry. Every command that is going to change the book first expires every
  resting order with `expires_at <= now`, in (expires_at, priority) order, so a
  dead order is never matched, counted or shown after a command. A rejected command
  changes nothing, so it expires nothing either; its checks (FOK, post-only) just
  ignore orders already due. Cancelling or amending an order that is due returns
  the `Expired` events only (the target among them): the order is no longer open.
* Invalid input (`Rejected("invalid")`): quantity or price <= 0; market with GTC,
  GTD or post-only; post-only with IOC or FOK (it could never trade nor rest); GTD
  without `expires_at` or with `expires_at <= now`; `expires_at` on another TIF; a
  sell without stack or with constraints; a buy without constraints or with a stack
  or attributes; an amend's new attributes on a buy.
* Duplicate ids are checked against resting orders only: that is what a restored
  book knows, and the service's ids are primary keys anyway.
* Amend of an order whose price and remaining are both unchanged keeps priority.
* `side` and `tif` must be the enum members (they are compared by identity on the
  hot path); a plain string is invalid.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import depth
from .events import (
    Accepted,
    Amended,
    Cancelled,
    CancelReason,
    Event,
    Expired,
    Fill,
    RejectCode,
    Rejected,
)
from .matching import Matcher
from .network import Network
from .orders import (
    Attributes,
    Instant,
    NewOrder,
    Region,
    RestingOrder,
    Side,
    Stack,
    TimeInForce,
)
from .state import _Order, due

BUY = Side.BUY
SELL = Side.SELL
GTC = TimeInForce.GTC
GTD = TimeInForce.GTD
IOC = TimeInForce.IOC
FOK = TimeInForce.FOK
INVALID = RejectCode.INVALID
NOT_OPEN = RejectCode.ORDER_NOT_OPEN


class Book(Matcher):
    """One instrument's book. Not thread-safe: the service holds the instrument lock."""

    # -- commands -----------------------------------------------------------

    def place(self, order: NewOrder, now: Instant) -> list[Event]:
        # The hot path. NewOrder is a tuple: unpacking it once is cheaper than
        # reading its fields, and the common GTC and IOC cases are validated inline.
        (
            oid,
            _,
            side,
            price,
            qty,
            tif,
            region,
            stack,
            cons,
            post_only,
            mkt,
            exp,
            attrs,
        ) = order
        buy = side is BUY
        if not (
            exp is None
            and ((tif is GTC and not mkt) or (tif is IOC and not post_only))
            and qty > 0
            and price > 0
            and (
                (cons is not None and stack is None and attrs is None)
                if buy
                else (side is SELL and stack is not None and cons is None)
            )
        ) and _invalid(order, now):
            return [Rejected(oid, INVALID)]
        live = self._live
        if oid in live:
            return [Rejected(oid, RejectCode.DUPLICATE_ORDER_ID)]
        if post_only:
            if self._would_cross_other(order, price, now):
                return [Rejected(oid, RejectCode.POST_ONLY_WOULD_CROSS)]
        elif tif is FOK and not self._fillable(order, now):
            return [Rejected(oid, RejectCode.FOK_NOT_FILLABLE)]
        expiry = self._expiry
        events: list[Event]
        if expiry and expiry[0][0] <= now:
            events = []
            self._sweep(now, events)
            self.sequence = seq = self.sequence + 1
            events.append(Accepted(seq, oid, order))
        else:
            self.sequence = seq = self.sequence + 1
            events = [Accepted(seq, oid, order)]
        bucket = (
            self._buys.get((region, cons))
            if buy
            else self._sells.get((region, stack, attrs))
        )
        if bucket is None:
            bucket = self._new_bucket(order)
        # Most orders cross nothing: the side's best price and the cheapest route
        # tell without a call (post-only was checked above and keeps own orders).
        routes = bucket.routes
        if post_only or not routes:
            pass
        elif buy:
            asks = self._ask_ladder.heap
            if asks and asks[0] + routes[0][1] <= price:
                qty = self._take(order, routes, price, qty, events)
        else:
            bids = self._bid_ladder.heap
            if bids and -bids[0] - routes[0][1] >= price:
                qty = self._take(order, routes, price, qty, events)
        if qty:
            if tif is GTC or tif is GTD:
                # Most orders join a live level and never expire: `_rest` inline.
                level = bucket.levels.get(-price if buy else price)
                if exp is None and level is not None and level.qty:
                    resting = _Order(order, price, qty, seq, level)
                    level.orders.append(resting)
                    level.qty += qty
                    live[oid] = resting
                else:
                    self._rest(order, price, qty, seq, bucket)
            else:
                self.sequence += 1
                events.append(Cancelled(self.sequence, oid, CancelReason.IOC, qty))
        return events

    def cancel(
        self, order_id: int, now: Instant, reason: str = CancelReason.USER
    ) -> list[Event]:
        order = self._live.get(order_id)
        if order is None:
            return [Rejected(order_id, NOT_OPEN)]
        expiry = self._expiry
        if expiry and expiry[0][0] <= now:
            events: list[Event] = []
            self._sweep(now, events)
            if order.remaining:
                self._drop(order, reason, events)
            return events
        self.sequence = seq = self.sequence + 1
        cancelled = Cancelled(seq, order_id, reason, order.remaining)
        self._remove(order)
        return [cancelled]

    def amend(
        self,
        order_id: int,
        now: Instant,
        *,
        price: int | None = None,
        remaining: int | None = None,
        attributes: Attributes | None = None,
    ) -> list[Event]:
        """Change a resting order's price and/or remaining (resting) quantity.

        A new price or a larger remaining loses priority: the order takes the
        `Amended` seq as priority, is checked again for post-only, and trades as
        a taker if it now crosses (fills follow the `Amended` event). A sell that
        loses priority takes `attributes` if given (its provider's score as of
        now: it moves bucket only when it loses its place anyway).
        """
        if (
            (price is None and remaining is None)
            or (price is not None and price <= 0)
            or (remaining is not None and remaining < 1)
        ):
            return [Rejected(order_id, INVALID)]
        order = self._live.get(order_id)
        if order is None:
            return [Rejected(order_id, NOT_OPEN)]
        if attributes is not None and order.spec.side is BUY:
            return [Rejected(order_id, INVALID)]
        events: list[Event] = []
        if due(order, now):
            self._sweep(now, events)
            return events
        new_price = order.price if price is None else price
        new_rem = order.remaining if remaining is None else remaining
        spec = order.spec
        keeps = new_price == order.price and new_rem <= order.remaining
        moved = not keeps and attributes not in (None, spec.attributes)
        if moved:
            spec = spec._replace(attributes=attributes)
        if (
            not keeps
            and spec.post_only
            and self._would_cross_other(spec, new_price, now)
        ):
            return [Rejected(order_id, RejectCode.POST_ONLY_WOULD_CROSS)]
        self._sweep(now, events)
        self.sequence = seq = self.sequence + 1
        if keeps:
            events.append(Amended(seq, order_id, new_price, new_rem, order.priority))
            order.level.qty += new_rem - order.remaining
            order.remaining = new_rem
            return events
        events.append(
            Amended(
                seq, order_id, new_price, new_rem, seq, attributes if moved else None
            )
        )
        self._remove(order)
        bucket = self._bucket_for(spec)
        if not spec.post_only:
            new_rem = self._take(spec, bucket.routes, new_price, new_rem, events)
        if new_rem:
            self._rest(spec, new_price, new_rem, seq, bucket)
        return events

    def expire(self, now: Instant) -> list[Event]:
        """Expire every resting order with `expires_at <= now`."""
        events: list[Event] = []
        self._sweep(now, events)
        return events

    def close(self, now: Instant, reason: str = CancelReason.GATE) -> list[Event]:
        """Cancel everything resting (gate closure, halt), in priority order."""
        events: list[Event] = []
        self._sweep(now, events)
        for order in sorted(self._live.values(), key=_priority):
            self._drop(order, reason, events)
        return events

    def cancel_all(
        self, participant_id: int, now: Instant, side: Side | None = None
    ) -> list[Event]:
        """Cancel a participant's resting orders (of one side), in priority order.

        Scans the book: cancel-all is rare, and an index per participant would
        cost every placement.
        """
        events: list[Event] = []
        self._sweep(now, events)
        mine = [
            order
            for order in self._live.values()
            if order.spec.participant_id == participant_id
            and (side is None or order.spec.side is side)
        ]
        for order in sorted(mine, key=_priority):
            self._drop(order, CancelReason.USER, events)
        return events

    # -- persistence ----------------------------------------------------------

    @classmethod
    def restore(
        cls, network: Network, resting_orders: Iterable[RestingOrder], sequence: int
    ) -> Book:
        """Rebuild a book from its open orders (e.g. loaded from the database)."""
        book = cls(network, sequence=sequence)
        for resting in sorted(resting_orders, key=lambda r: r.priority):
            if resting.priority > sequence or resting.order_id in book._live:
                raise ValueError(f"inconsistent resting order {resting.order_id}")
            book._rest(
                resting.as_new_order(),
                resting.price,
                resting.remaining,
                resting.priority,
            )
        return book

    def apply(self, events: Iterable[Event]) -> None:
        """Replay events another Book emitted, to catch up with it.

        Events at or below `self.sequence` were applied already and are skipped;
        a gap raises ValueError. An accepted order is queued at once and then
        filled or cancelled by the events that follow it, as it was live.
        """
        for event in events:
            if isinstance(event, Rejected) or event.seq <= self.sequence:
                continue
            if event.seq != self.sequence + 1:
                raise ValueError(f"event {event.seq} follows {self.sequence}: gap")
            self.sequence = event.seq
            if isinstance(event, Fill):
                self._set_remaining(self._live[event.buy_order_id], event.buy_remaining)
                self._set_remaining(
                    self._live[event.sell_order_id], event.sell_remaining
                )
            elif isinstance(event, Accepted):
                spec = event.order
                self._rest(spec, spec.price, spec.quantity, event.seq)
            elif isinstance(event, Cancelled | Expired):
                self._remove(self._live[event.order_id])
            else:
                self._apply_amended(event)

    def _apply_amended(self, event: Amended) -> None:
        order = self._live[event.order_id]
        if event.priority_seq == order.priority:
            self._set_remaining(order, event.remaining)
        else:
            self._remove(order)
            spec = order.spec
            if event.attributes is not None:
                spec = spec._replace(attributes=event.attributes)
            self._rest(spec, event.price, event.remaining, event.seq)

    def _set_remaining(self, order: _Order, remaining: int) -> None:
        if remaining:
            order.level.qty += remaining - order.remaining
            order.remaining = remaining
        else:
            self._remove(order)

    # -- reads --------------------------------------------------------------

    def orders(self) -> list[RestingOrder]:
        """The resting orders, in priority order."""
        return [_snapshot(o) for o in sorted(self._live.values(), key=_priority)]

    def get(self, order_id: int) -> RestingOrder | None:
        order = self._live.get(order_id)
        return None if order is None else _snapshot(order)

    def __len__(self) -> int:
        return len(self._live)

    def best_ask(self) -> int | None:
        """Lowest site price of any resting sell."""
        return depth.best_ask(self._sells.values())

    def best_bid(self) -> int | None:
        """Highest all-in price of any resting buy."""
        return depth.best_bid(self._buys.values())

    def asks(self) -> list[depth.AskLevel]:
        """Resting sell quantity by (site price, region, stack), best first."""
        return depth.asks(self._sells.values())

    def bids(self) -> list[depth.BidLevel]:
        """Resting buy quantity by (all-in price, origin region), best first."""
        return depth.bids(self._buys.values())

    def locational_price(
        self, region: Region, stack: Stack | None = None
    ) -> int | None:
        """Best all-in ask delivered to `region`, ignoring buyer constraints."""
        return depth.locational_price(self._sells.values(), self.network, region, stack)

    def asks_for(
        self, region: Region, stack: Stack | None = None
    ) -> list[depth.AllInAsk]:
        """Resting sells reachable from `region`, by all-in price."""
        return depth.asks_for(self._sells.values(), self.network, region, stack)


def _priority(order: _Order) -> int:
    return order.priority


def _snapshot(order: _Order) -> RestingOrder:
    spec = order.spec
    return RestingOrder(
        order_id=spec.order_id,
        participant_id=spec.participant_id,
        side=spec.side,
        price=order.price,
        remaining=order.remaining,
        priority=order.priority,
        tif=spec.tif,
        region=spec.region,
        stack=spec.stack,
        constraints=spec.constraints,
        post_only=spec.post_only,
        expires_at=spec.expires_at,
        attributes=spec.attributes,
    )


def _invalid(order: NewOrder, now: Instant) -> bool:
    """Input the engine refuses outright (see the module docstring)."""
    tif = order.tif
    if tif is GTC:
        if order.market or order.expires_at is not None:
            return True
    elif tif is GTD:
        if order.market or order.expires_at is None or order.expires_at <= now:
            return True
    elif tif is IOC or tif is FOK:
        if order.post_only or order.expires_at is not None:
            return True
    else:
        return True
    if order.quantity <= 0 or order.price <= 0:
        return True
    side = order.side
    if side is BUY:
        return (
            order.constraints is None
            or order.stack is not None
            or order.attributes is not None
        )
    return side is not SELL or order.stack is None or order.constraints is not None
