"""The book's data structures and the primitives that keep their invariants.

Layout: a side holds buckets (sells by (region, stack, attributes), buys by (origin,
constraints));
a bucket holds price levels in a dict keyed by a sort key (the price for sells, minus
the price for buys) and a heap of those keys; a level holds its orders in a deque in
priority order. Removing an order only marks it (remaining = 0) and fixes the level's
quantity; the dead entry is dropped when it reaches the front. A level taken out of
its bucket goes, empty, to the bucket's few `spares`, to serve a new price later
(dead orders may still point at it: nothing reads a dead order's level).

Invariants after every primitive, which the matching loop relies on to read heads
without cleaning:

* a key is in `bucket.heap` exactly when it is in `bucket.levels`;
* a level has live orders exactly when its `qty` > 0; then `orders[0]` is live,
  otherwise its deque is empty;
* if `bucket.heap` is not empty, the level at `heap[0]` has live orders; so a
  bucket has live orders exactly when its heap is not empty (no counters needed);
* a side's `_Ladder` counts the live levels at each key over all its buckets, with
  the same heap discipline, so `ladder.heap[0]` is the side's best key;
* `bucket.routes` is sorted by surcharge, so a scan can stop at the first route
  whose surcharge alone puts the side's best price out of reach.
"""

from __future__ import annotations

from bisect import insort
from collections import deque
from heapq import heappop, heappush
from operator import itemgetter

from .events import Cancelled, Event, Expired
from .network import Network
from .orders import Attributes, Constraints, Instant, NewOrder, Region, Side, Stack

BUY = Side.BUY

# Past this many buckets on a side, empty ones are dropped (see `_gc_buckets`).
_BUCKET_GC_THRESHOLD = 64
# Empty levels a bucket keeps for reuse (`_Bucket.spares`); a few cover the churn.
_SPARES = 16


class _Order:
    """A live order. `spec` keeps the fields that never change while it rests."""

    # Ids are read through `spec`: every slot stored costs each placement.
    __slots__ = ("level", "price", "priority", "remaining", "spec")

    def __init__(
        self, spec: NewOrder, price: int, remaining: int, priority: int, level: _Level
    ) -> None:
        self.spec = spec
        self.price = price
        self.remaining = remaining
        self.priority = priority
        self.level = level


class _Level:
    __slots__ = ("bucket", "dead", "key", "orders", "price", "qty")

    def __init__(self, key: int, price: int, bucket: _Bucket) -> None:
        self.key = key
        self.price = price
        self.bucket = bucket
        self.orders: deque[_Order] = deque()
        self.qty = 0  # live quantity: > 0 exactly when the level has live orders
        self.dead = 0  # removed orders still in the deque (behind a live head)


class _Ladder:
    """One side's live price keys over all buckets: a bound for matching scans."""

    __slots__ = ("counts", "heap")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}  # key -> live levels at it (0: awaiting pop)
        self.heap: list[int] = []


class _Bucket:
    """Orders of one (region, stack, attributes) or (origin, constraints), and
    `routes`: the
    opposite buckets it may trade with and the surcharge to each, kept current as
    buckets come and go, so matching never evaluates compatibility."""

    __slots__ = (
        "attributes",
        "constraints",
        "heap",
        "ladder",
        "levels",
        "region",
        "routes",
        "side",
        "spares",
        "stack",
    )

    def __init__(
        self,
        side: Side,
        region: Region,
        stack: Stack | None,
        constraints: Constraints | None,
        ladder: _Ladder,
        attributes: Attributes | None = None,
    ) -> None:
        self.side = side
        self.ladder = ladder
        self.region = region
        self.stack = stack
        self.constraints = constraints
        self.attributes = attributes
        self.levels: dict[int, _Level] = {}
        self.heap: list[int] = []
        self.routes: list[tuple[_Bucket, int]] = []
        # Dropped (empty) levels for new prices to reuse: the top levels of a
        # busy book die and are reborn all the time, and a new _Level is costly.
        self.spares: list[_Level] = []


type Route = tuple[_Bucket, int]
_surcharge = itemgetter(1)
type SellKey = tuple[Region, Stack | None, Attributes | None]
type BuyKey = tuple[Region, Constraints | None]


class BookState:
    """Storage and bookkeeping; matching and commands live in subclasses."""

    def __init__(self, network: Network, *, sequence: int = 0) -> None:
        self.network = network
        self.sequence = sequence
        self._live: dict[int, _Order] = {}
        self._sells: dict[SellKey, _Bucket] = {}
        self._buys: dict[BuyKey, _Bucket] = {}
        self._bid_ladder = _Ladder()
        self._ask_ladder = _Ladder()
        # (expires_at, priority, order); entries of dead orders are skipped lazily.
        self._expiry: list[tuple[Instant, int, _Order]] = []

    # -- buckets ------------------------------------------------------------

    def _bucket_for(self, spec: NewOrder) -> _Bucket:
        """The bucket an (already validated) order rests in, created if new."""
        if spec.side is BUY:
            bucket = self._buys.get((spec.region, spec.constraints))
        else:
            bucket = self._sells.get((spec.region, spec.stack, spec.attributes))
        return bucket if bucket is not None else self._new_bucket(spec)

    def _new_bucket(self, spec: NewOrder) -> _Bucket:
        route = self.network.route
        buy = spec.side is BUY
        ladder = self._bid_ladder if buy else self._ask_ladder
        bucket = _Bucket(
            spec.side,
            spec.region,
            spec.stack,
            spec.constraints,
            ladder,
            spec.attributes,
        )
        if buy:
            _gc_buckets(self._buys)
            self._buys[(spec.region, spec.constraints)] = bucket
            pairs = [(other, bucket) for other in self._sells.values()]
        else:
            _gc_buckets(self._sells)
            self._sells[(spec.region, spec.stack, spec.attributes)] = bucket
            pairs = [(bucket, other) for other in self._buys.values()]
        for sells, buys in pairs:
            s = route(
                sells.region,
                sells.stack,
                sells.attributes,
                buys.region,
                buys.constraints,
            )
            if s is not None:
                insort(sells.routes, (buys, s), key=_surcharge)
                insort(buys.routes, (sells, s), key=_surcharge)
        return bucket

    # -- orders -------------------------------------------------------------

    def _rest(
        self,
        spec: NewOrder,
        price: int,
        remaining: int,
        priority: int,
        bucket: _Bucket | None = None,
    ) -> _Order:
        """Queue an order at the back of its level with the given priority."""
        if bucket is None:
            bucket = self._bucket_for(spec)
        key = -price if spec.side is BUY else price
        level = bucket.levels.get(key)
        if level is None:
            spares = bucket.spares
            if spares:
                level = spares.pop()
                level.key = key
                level.price = price
            else:
                level = _Level(key, price, bucket)
            bucket.levels[key] = level
            heappush(bucket.heap, key)
        if not level.qty:  # the level comes alive: count it on the side's ladder
            counts = bucket.ladder.counts
            live = counts.get(key)
            if live is None:
                counts[key] = 1
                heappush(bucket.ladder.heap, key)
            else:
                counts[key] = live + 1
        order = _Order(spec, price, remaining, priority, level)
        level.orders.append(order)
        level.qty += remaining
        self._live[spec.order_id] = order
        if spec.expires_at is not None:
            heappush(self._expiry, (spec.expires_at, priority, order))
        return order

    def _remove(self, order: _Order) -> None:
        """Take a live order out of the book, keeping the module's invariants."""
        del self._live[order.spec.order_id]
        level = order.level
        level.qty -= order.remaining
        order.remaining = 0
        orders = level.orders
        if not level.qty:
            orders.clear()
            level.dead = 0
            bucket = level.bucket
            heap = bucket.heap
            levels = bucket.levels
            spares = bucket.spares
            while heap and not levels[heap[0]].qty:
                dropped = levels.pop(heappop(heap))
                if len(spares) < _SPARES:
                    spares.append(dropped)
            counts = bucket.ladder.counts
            counts[level.key] -= 1
            heap = bucket.ladder.heap
            while heap and not counts[heap[0]]:
                del counts[heappop(heap)]
        elif orders[0] is order:
            orders.popleft()
            while not orders[0].remaining:
                orders.popleft()
                level.dead -= 1
        else:
            level.dead += 1
            if level.dead > 32 and 2 * level.dead > len(orders):
                # Mostly dead entries behind a long-lived head: compact (amortized).
                level.orders = deque(o for o in orders if o.remaining)
                level.dead = 0

    def _drop(self, order: _Order, reason: str, events: list[Event]) -> None:
        self.sequence += 1
        events.append(
            Cancelled(self.sequence, order.spec.order_id, reason, order.remaining)
        )
        self._remove(order)

    def _sweep(self, now: Instant, events: list[Event]) -> None:
        """Expire every order due at `now`, by (expires_at, priority)."""
        expiry = self._expiry
        while expiry and expiry[0][0] <= now:
            _, priority, order = heappop(expiry)
            if order.remaining and order.priority == priority:
                self.sequence += 1
                events.append(
                    Expired(self.sequence, order.spec.order_id, order.remaining)
                )
                self._remove(order)


def due(order: _Order, now: Instant) -> bool:
    """Whether a resting order has expired at `now` (swept or not yet)."""
    expires_at = order.spec.expires_at
    return expires_at is not None and expires_at <= now


def _gc_buckets(buckets: dict[SellKey, _Bucket] | dict[BuyKey, _Bucket]) -> None:
    """Drop a side's empty buckets once they are most of it.

    Buy signatures are user-chosen, and sell signatures carry each provider's
    reliability, so empty buckets could pile up and lengthen every route list an
    incoming order walks.
    """
    if len(buckets) < _BUCKET_GC_THRESHOLD:
        return
    empty = [key for key, bucket in buckets.items() if not bucket.heap]
    if 2 * len(empty) < len(buckets):
        return
    for key in empty:
        bucket = buckets.pop(key)  # type: ignore[arg-type]
        for other, s in bucket.routes:
            other.routes.remove((bucket, s))
