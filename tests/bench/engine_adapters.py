"""Contenders for the engine benchmark, each driven by the same command tuples.

`prepare(stream)` builds each contender's own input objects outside the timed
region (for every contender alike: several create ids or Decimals in their order
constructors); `run(prepared)` is what is timed; `volume(prepared)` replays the
stream untimed and returns the quantity traded, to check all did the same work.

None of the PyPI books has IOC: a market order is sent as a limit order at its
protection price and whatever rests of it is cancelled at once (counted in the same
command). None has self-trade prevention; the streams use one participant per order.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sortedcontainers import SortedDict

from exchange.engine import (
    Book,
    Constraints,
    Fill,
    Network,
    NewOrder,
    Side,
    TimeInForce,
)
from tests.bench.engine_streams import Command

ONE_MARKET = Network({})
ANY = Constraints()


class SortedDictBook:
    """The practical speed limit: a minimal price-time book with no regions, no
    events beyond fill tuples, lazy cancels. SortedDict price -> deque of
    [order_id, remaining]."""

    def __init__(self) -> None:
        self.bids: Any = SortedDict()
        self.asks: Any = SortedDict()
        self.live: dict[int, list[int]] = {}

    def limit(
        self, oid: int, is_buy: bool, price: int, qty: int, ioc: bool
    ) -> list[Any]:
        fills = []
        opp, idx = (self.asks, 0) if is_buy else (self.bids, -1)
        while qty and opp:
            level_price, queue = opp.peekitem(idx)
            if (level_price > price) if is_buy else (level_price < price):
                break
            head = queue[0]
            if head[1]:
                take = min(qty, head[1])
                qty -= take
                head[1] -= take
                fills.append((oid, head[0], level_price, take))
            if not head[1]:
                queue.popleft()
                self.live.pop(head[0], None)
                if not queue:
                    del opp[level_price]
        if qty and not ioc:
            side = self.bids if is_buy else self.asks
            queue = side.get(price)
            if queue is None:
                queue = side[price] = deque()
            entry = [oid, qty]
            queue.append(entry)
            self.live[oid] = entry
        return fills

    def cancel(self, oid: int) -> bool:
        entry = self.live.pop(oid, None)
        if entry is None:
            return False
        entry[1] = 0  # dropped when it reaches the front of its level
        return True


class Baseline:
    name = "SortedDict price-time book (no regions)"
    notes = "50-line reference point"

    def prepare(self, stream: list[Any]) -> list[Any]:
        out = []
        for cmd in stream:
            if isinstance(cmd, NewOrder):  # the network stream: regions ignored
                cmd = (
                    "market" if cmd.market else "limit",
                    cmd.order_id,
                    cmd.side is Side.BUY,
                    cmd.price,
                    cmd.quantity,
                )
            out.append(cmd)
        return out

    def run(self, prepared: list[Command]) -> int:
        book = SortedDictBook()
        limit, cancel = book.limit, book.cancel
        volume = 0
        for cmd in prepared:
            if cmd[0] == "cancel":
                cancel(cmd[1])
            else:
                for fill in limit(cmd[1], cmd[2], cmd[3], cmd[4], cmd[0] == "market"):
                    volume += fill[3]
        return volume

    volume = run


class Yiwang:
    name = "Yiwang engine"
    notes = "full events, STP, expiry checks"

    def __init__(self, network: Network = ONE_MARKET) -> None:
        self.network = network

    def prepare(self, stream: list[Any]) -> list[tuple[bool, Any]]:
        out: list[tuple[bool, Any]] = []
        for cmd in stream:
            if isinstance(cmd, NewOrder):
                out.append((True, cmd))
            elif cmd[0] == "cancel":
                out.append((False, cmd[1]))
            else:
                kind, oid, is_buy, price, qty = cmd
                market = kind == "market"
                out.append(
                    (
                        True,
                        NewOrder(
                            order_id=oid,
                            participant_id=oid,
                            side=Side.BUY if is_buy else Side.SELL,
                            price=price,
                            quantity=qty,
                            tif=TimeInForce.IOC if market else TimeInForce.GTC,
                            region="east",
                            stack=None if is_buy else "CUDA",
                            constraints=ANY if is_buy else None,
                            market=market,
                        ),
                    )
                )
        return out

    def run(self, prepared: list[tuple[bool, Any]]) -> Book:
        book = Book(self.network)
        place, cancel = book.place, book.cancel
        for now, (is_order, payload) in enumerate(prepared):
            if is_order:
                place(payload, now)
            else:
                cancel(payload, now)
        return book

    def volume(self, prepared: list[tuple[bool, Any]]) -> int:
        book = Book(self.network)
        volume = 0
        for now, (is_order, payload) in enumerate(prepared):
            events = book.place(payload, now) if is_order else book.cancel(payload, now)
            volume += sum(e.quantity for e in events if isinstance(e, Fill))
        return volume


class PyOrderBook:
    name = "pyorderbook 0.4.9"
    notes = "no IOC (limit + cancel rest); Decimal prices by design"

    def prepare(self, stream: list[Command]) -> list[tuple[str, Any]]:
        from pyorderbook import Order
        from pyorderbook import Side as PSide

        by_id: dict[int, Any] = {}
        out: list[tuple[str, Any]] = []
        for cmd in stream:
            if cmd[0] == "cancel":
                out.append(("c", by_id[cmd[1]]))
                continue
            order = Order(PSide.BID if cmd[2] else PSide.ASK, "X", cmd[3], cmd[4])
            by_id[cmd[1]] = order
            out.append((cmd[0][0], order))
        return out

    def run(self, prepared: list[tuple[str, Any]]) -> int:
        from pyorderbook import Book as PBook

        book = PBook()
        match, cancel, live = book.match, book.cancel, book.order_map
        volume = 0
        for kind, order in prepared:
            if kind == "c":
                if order.id in live:  # its cancel logs an error for unknown ids
                    cancel(order)
                continue
            match(order)
            volume += order.original_quantity - order.quantity
            if kind == "m" and order.id in live:
                cancel(order)
        return volume

    volume = run


class LightMatchingEngine:
    name = "lightmatchingengine 2019.1.4"
    notes = "no IOC (limit + cancel rest); cancel scans its level"

    def prepare(self, stream: list[Command]) -> list[Command]:
        return stream

    def run(self, prepared: list[Command]) -> int:
        from lightmatchingengine.lightmatchingengine import LightMatchingEngine as Lme
        from lightmatchingengine.lightmatchingengine import Side as LSide

        engine = Lme()
        add, cancel = engine.add_order, engine.cancel_order
        orders: dict[int, Any] = {}
        volume = 0
        for cmd in prepared:
            if cmd[0] == "cancel":
                order = orders.get(cmd[1])
                # Its id map keeps filled orders, whose cancel would assert.
                if order is not None and order.leaves_qty:
                    cancel(order.order_id, "X")
                continue
            order, _ = add("X", cmd[3], cmd[4], LSide.BUY if cmd[2] else LSide.SELL)
            orders[cmd[1]] = order
            volume += order.cum_qty
            if cmd[0] == "market" and order.leaves_qty:
                cancel(order.order_id, "X")
        return volume

    volume = run


class Akhil4nOrderBook:
    name = "akhil4n-orderbook 0.1.1"
    notes = "no IOC (limit + cancel rest); int prices (faster than its Decimals)"

    def prepare(self, stream: list[Command]) -> list[tuple[str, Any]]:
        from orderbook import Order, OrderSide

        by_id: dict[int, Any] = {}
        out: list[tuple[str, Any]] = []
        for cmd in stream:
            if cmd[0] == "cancel":
                out.append(("c", by_id[cmd[1]]))
                continue
            order = Order(OrderSide.BID if cmd[2] else OrderSide.ASK, cmd[3], cmd[4])
            by_id[cmd[1]] = order
            out.append((cmd[0][0], order))
        return out

    def run(self, prepared: list[tuple[str, Any]]) -> int:
        from orderbook import OrderBook

        book = OrderBook()
        add, cancel = book.add_limit_order, book.cancel_order
        volume = 0
        for kind, order in prepared:
            if kind == "c":
                cancel(order.order_id)
                continue
            add(order)
            volume += order.original_quantity - order.remaining_quantity
            if kind == "m" and order.remaining_quantity:
                cancel(order.order_id)
        return volume

    volume = run
