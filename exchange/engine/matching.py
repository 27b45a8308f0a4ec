"""Network-aware price-time matching over buckets.

An incoming buy from region b ranks resting sells by `ask + s(a, b)`, an incoming
sell ranks resting buys by `bid - s(a, b)`, ties by priority sequence. Within a
bucket the surcharge is one constant, so the best counterparty is the best of the
bucket heads: each step costs O(compatible buckets), never a scan of the book. The
trade price is the resting order's: a resting sell gets its ask, a resting buy pays
its bid (the seller then gets `bid - s`).
"""

from __future__ import annotations

from collections.abc import Iterator

from .events import CancelReason, Event, Fill
from .orders import Instant, NewOrder, Side
from .state import BookState, Route, _Order, due

BUY = Side.BUY
SELF_TRADE = CancelReason.SELF_TRADE


class Matcher(BookState):
    def _routes_of(self, spec: NewOrder) -> list[Route]:
        """Routes of an incoming order's bucket, without creating the bucket: for
        checks that must leave the book untouched."""
        if spec.side is BUY:
            bucket = self._buys.get((spec.region, spec.constraints))
            others = self._sells.values()
        else:
            bucket = self._sells.get((spec.region, spec.stack, spec.attributes))
            others = self._buys.values()
        if bucket is not None:
            return bucket.routes
        route = self.network.route
        routes = []
        for other in others:
            if spec.side is BUY:
                s = route(
                    other.region,
                    other.stack,
                    other.attributes,
                    spec.region,
                    spec.constraints,
                )
            else:
                s = route(
                    spec.region,
                    spec.stack,
                    spec.attributes,
                    other.region,
                    other.constraints,
                )
            if s is not None:
                routes.append((other, s))
        return routes

    def _take(
        self,
        spec: NewOrder,
        routes: list[Route],
        limit: int,
        rem: int,
        events: list[Event],
    ) -> int:
        """Trade an incoming order as taker; return what is left of it.

        Works in level keys (ask for sells, -bid for buys), where lower is better
        for the taker on either side: a resting order costs `key + s`, an incoming
        buy crosses when that is <= its limit, an incoming sell when it is <= -limit
        (that is, `bid - s >= ask`). A bucket's best key is `heap[0]`, so only the
        winning bucket's level is looked up. With a single route (always so in a
        one-region market) the best is simply that bucket's head.
        """
        buy = spec.side is BUY
        ladder = (self._ask_ladder if buy else self._bid_ladder).heap
        bound = limit if buy else -limit
        pid = spec.participant_id
        taker_id = spec.order_id
        single = routes[0] if len(routes) == 1 else None
        while rem and ladder:
            if single is not None:
                bucket, s = single
                heap = bucket.heap
                if not heap or heap[0] + s > bound:
                    break
                level = bucket.levels[heap[0]]
                maker = level.orders[0]
            else:
                floor = ladder[0]  # the side's best key over all buckets
                best: _Order | None = None
                best_cost = best_prio = best_s = 0
                for bucket, s in routes:
                    if floor + s > bound:
                        break  # routes are by surcharge: no later one can cross
                    heap = bucket.heap
                    if heap:
                        cost = heap[0] + s
                        if cost <= bound and (best is None or cost <= best_cost):
                            head = bucket.levels[heap[0]].orders[0]
                            if (
                                best is None
                                or cost < best_cost
                                or head.priority < best_prio
                            ):
                                best, best_cost, best_prio, best_s = (
                                    head,
                                    cost,
                                    head.priority,
                                    s,
                                )
                if best is None:
                    break
                maker, s = best, best_s
                level = maker.level
            maker_spec = maker.spec
            if maker_spec.participant_id == pid:
                self._drop(maker, SELF_TRADE, events)
                continue
            # The fill, inline: this loop is the engine's hottest code.
            mid = maker_spec.order_id
            have = maker.remaining
            qty = have if have < rem else rem
            rem -= qty
            left = have - qty
            self.sequence = seq = self.sequence + 1
            if buy:
                fill = Fill(
                    seq, taker_id, mid, mid, taker_id, maker.price, s, qty, rem, left
                )
            else:
                site = maker.price - s
                fill = Fill(seq, mid, taker_id, mid, taker_id, site, s, qty, left, rem)
            events.append(fill)
            if left:
                maker.remaining = left
                level.qty -= qty
            elif level.qty > qty:
                # `_remove` of a level's head when the level lives on.
                del self._live[mid]
                maker.remaining = 0
                level.qty -= qty
                orders = level.orders
                orders.popleft()
                while not orders[0].remaining:
                    orders.popleft()
                    level.dead -= 1
            else:
                self._remove(maker)
        return rem

    def _crossing(self, spec: NewOrder, limit: int) -> Iterator[_Order]:
        """Live resting orders an incoming order at `limit` crosses, in no order.

        Only for the read-only checks (post-only, FOK): the top of each bucket
        settles most cases without touching deeper levels.
        """
        buy = spec.side is BUY
        for bucket, s in self._routes_of(spec):
            if not bucket.heap:
                continue
            top = bucket.levels[bucket.heap[0]]
            if (top.price + s > limit) if buy else (top.price - s < limit):
                continue
            for level in bucket.levels.values():
                if not level.qty:
                    continue
                if (level.price + s > limit) if buy else (level.price - s < limit):
                    continue
                for order in level.orders:
                    if order.remaining:
                        yield order

    def _would_cross_other(self, spec: NewOrder, limit: int, now: Instant) -> bool:
        """Post-only check: any crossable order of another participant, alive at now."""
        pid = spec.participant_id
        for order in self._crossing(spec, limit):
            if order.spec.participant_id != pid and not due(order, now):
                return True
        return False

    def _fillable(self, spec: NewOrder, now: Instant) -> bool:
        """FOK check: enough crossable quantity from others, alive at `now`."""
        pid = spec.participant_id
        need = spec.quantity
        for order in self._crossing(spec, spec.price):
            if order.spec.participant_id != pid and not due(order, now):
                need -= order.remaining
                if need <= 0:
                    return True
        return False
