"""Random markets and command streams, and a harness that drives them through the
engine, the brute-force reference, a replica fed by `apply()` and a book rebuilt by
`restore()`, checking after every command that all agree and the invariants hold.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from exchange.engine import (
    Accepted,
    Amended,
    Attributes,
    Book,
    Constraints,
    Event,
    Fill,
    Network,
    NewOrder,
    Rejected,
    Side,
    TimeInForce,
)
from tests.exchange.engine.reference import ReferenceBook, surcharge_if_compatible

REGIONS = ["east", "north", "west", "south", "central"]
STACKS = ["CUDA", "CANN", "ROCm"]
# Chips with their vendor and memory per chip (GB; None: unpublished).
CHIPS = {"h100": ("nvidia", 80), "h20": ("nvidia", 96), "910b": ("huawei", 64)}
CHIPS["l40"] = ("nvidia", None)
CERTIFICATIONS = ["MLPS3", "ISO27001", "SOC2"]
BUY, SELL = Side.BUY, Side.SELL
TIFS = [TimeInForce.GTC, TimeInForce.GTD, TimeInForce.IOC, TimeInForce.FOK]


@dataclass
class Market:
    network: Network
    regions: list[str]
    stacks: list[str]
    constraints: list[Constraints]
    # Sells' attributes: None (none known) among them.
    attributes: list[Attributes | None] = field(default_factory=lambda: [None])


def _maybe(
    strategy: st.SearchStrategy[Any], none_weight: int = 1
) -> st.SearchStrategy[Any]:
    return st.one_of(*([st.none()] * none_weight), strategy)


@st.composite
def markets(draw: st.DrawFn) -> Market:
    regions = REGIONS[: draw(st.integers(3, 5))]
    stacks = STACKS[: draw(st.integers(2, 3))]
    surcharge: dict[tuple[str, str], int] = {}
    latency: dict[tuple[str, str], int] = {}
    for a in regions:
        for b in regions:
            if a == b:
                # Mostly implicit; sometimes stated (0 surcharge, a small latency).
                if draw(st.integers(0, 3)) == 0:
                    surcharge[(a, a)] = 0
                    latency[(a, a)] = draw(st.integers(0, 5))
                continue
            if draw(st.integers(0, 4)) == 0:
                continue  # no link
            surcharge[(a, b)] = draw(st.integers(0, 6))
            if draw(st.integers(0, 5)):
                latency[(a, b)] = draw(st.integers(1, 60))
    green = {
        r: draw(_maybe(st.integers(0, 100))) for r in regions if draw(st.booleans())
    }
    pool = draw(st.lists(constraints_in(regions, stacks), min_size=1, max_size=5))
    pool.insert(0, Constraints())
    sells = draw(st.lists(attributes_any(), min_size=1, max_size=5))
    sells.insert(0, None)
    return Market(Network(surcharge, latency, green), regions, stacks, pool, sells)


def constraints_in(
    regions: list[str], stacks: list[str]
) -> st.SearchStrategy[Constraints]:
    some = st.frozensets
    return st.builds(
        Constraints,
        stacks=_maybe(some(st.sampled_from(stacks), min_size=1), 2),
        max_latency_ms=_maybe(st.integers(0, 60), 2),
        regions=_maybe(some(st.sampled_from(regions), min_size=1), 2),
        min_green_share=_maybe(st.integers(0, 100), 2),
        chips=_maybe(some(st.sampled_from(sorted(CHIPS)), min_size=1), 3),
        vendors=_maybe(some(st.sampled_from(["nvidia", "huawei"]), min_size=1), 3),
        min_memory_gb=_maybe(st.sampled_from([64, 80, 96]), 3),
        confidential=_maybe(st.booleans(), 2),
        certifications=_maybe(some(st.sampled_from(CERTIFICATIONS), min_size=1), 3),
        min_reliability=_maybe(st.integers(80, 100), 3),
    )


@st.composite
def attributes_any(draw: st.DrawFn) -> Attributes:
    """A sell's attributes: a chip (its vendor and memory with it), TEE or not,
    some certifications, a reliability in hundredths (or unknown)."""
    chip = draw(st.sampled_from(sorted(CHIPS)))
    vendor, memory = CHIPS[chip]
    return Attributes(
        chip=chip,
        vendor=vendor,
        memory_gb=memory,
        confidential=draw(st.booleans()),
        certifications=draw(st.frozensets(st.sampled_from(CERTIFICATIONS))),
        reliability=draw(_maybe(st.integers(80, 100), 1)),
    )


place_cmd = st.tuples(
    st.just("place"),
    st.sampled_from([BUY, SELL]),
    st.integers(1, 4),  # participant
    st.integers(0, 20),  # price offset
    st.integers(1, 8),  # quantity
    st.sampled_from(TIFS),
    st.integers(0, 9),  # 8: post-only, 9: market, else plain
    st.integers(-1, 8),  # GTD lifetime
    st.integers(0, 4),  # region index
    st.integers(0, 5),  # stack / constraints index
    st.integers(0, 60),  # 55..59: invalid variants, 60: a resting id again
)
cancel_cmd = st.tuples(st.just("cancel"), st.integers(0, 1000))
amend_cmd = st.tuples(
    st.just("amend"),
    st.integers(0, 1000),
    _maybe(st.integers(0, 20)),
    _maybe(st.integers(0, 9)),
)
cancel_all_cmd = st.tuples(
    st.just("cancel_all"), st.integers(1, 4), _maybe(st.sampled_from([BUY, SELL]))
)
# Weighted by repetition: mostly placements, some cancels and amends, rare sweeps.
commands = st.one_of(
    *[place_cmd] * 10,
    *[cancel_cmd] * 2,
    *[amend_cmd] * 3,
    st.tuples(st.just("expire")),
    cancel_all_cmd,
    st.tuples(st.just("checkpoint")),
)
steps = st.lists(
    st.tuples(st.integers(0, 3), st.one_of(*[commands] * 30, st.just(("close",)))),
    min_size=20,
    max_size=80,
)


def random_steps(
    rng: random.Random, n: int, signatures: int = 6
) -> list[tuple[int, tuple[Any, ...]]]:
    """A stream with realistic weights (Hypothesis' own draws lean to edge cases);
    orders pick stacks and constraint signatures among the first `signatures`."""
    out: list[tuple[int, tuple[Any, ...]]] = []
    for _ in range(n):
        roll = rng.random()
        cmd: tuple[Any, ...]
        if roll < 0.62:
            cmd = (
                "place",
                rng.choice([BUY, SELL]),
                rng.randint(1, 4),
                rng.randint(0, 20),
                rng.choice([1, 1, 2, 3, 5, 8]),
                rng.choice(TIFS[:1] * 3 + TIFS),
                rng.randint(0, 9),
                rng.randint(-1, 8),
                rng.randint(0, 4),
                rng.randint(0, signatures - 1),
                rng.randint(0, 60),
            )
        elif roll < 0.77:
            cmd = ("cancel", rng.randint(0, 1000))
        elif roll < 0.92:
            price = rng.choice([None, rng.randint(0, 20)])
            remaining = rng.choice([None, rng.randint(0, 9)])
            cmd = ("amend", rng.randint(0, 1000), price, remaining)
        elif roll < 0.95:
            cmd = ("expire",)
        elif roll < 0.97:
            cmd = ("cancel_all", rng.randint(1, 4), rng.choice([None, BUY, SELL]))
        elif roll < 0.995:
            cmd = ("checkpoint",)
        else:
            cmd = ("close",)
        out.append((rng.choice([0, 0, 1, 1, 2, 3]), cmd))
    return out


def build_order(market: Market, oid: int, now: int, cmd: tuple[Any, ...]) -> NewOrder:
    _, side, pid, offset, qty, tif, kind, life, ri, si, mutation = cmd
    post_only, is_market = kind == 8, kind == 9
    region = market.regions[ri % len(market.regions)]
    if is_market:
        tif = TimeInForce.FOK if tif == TimeInForce.FOK else TimeInForce.IOC
        # A protection price at the far edge of the band.
        price = 125 if side is BUY else 85
    else:
        price = 90 + offset + (4 if side is BUY else 0)
    expires_at = now + life if tif == TimeInForce.GTD else None
    stack = market.stacks[si % len(market.stacks)] if side is SELL else None
    cons = market.constraints[si % len(market.constraints)] if side is BUY else None
    pool = market.attributes
    attributes = pool[(mutation + offset) % len(pool)] if side is SELL else None
    if mutation == 55:
        qty = 0
    elif mutation == 56:
        stack, cons = (None, None) if offset % 2 else ("CUDA", Constraints())
        if side is BUY and offset % 3 == 0:
            attributes = Attributes("h100")  # attributes on a buy: invalid
    elif mutation == 57:
        expires_at = now + 5  # on a non-GTD order: invalid unless GTD
    elif mutation == 58:
        is_market = True  # with GTC/GTD or post-only: invalid, else fine
    elif mutation == 59:
        post_only = True
    return NewOrder(
        order_id=oid,
        participant_id=pid,
        side=side,
        price=price,
        quantity=qty,
        tif=tif,
        region=region,
        stack=stack,
        constraints=cons,
        post_only=post_only,
        market=is_market,
        expires_at=expires_at,
        attributes=attributes,
    )


@dataclass
class Harness:
    market: Market
    now: int = 1_000
    live: Book = field(init=False)
    ref: ReferenceBook = field(init=False)
    replica: Book = field(init=False)
    restored: Book = field(init=False)
    ids: list[int] = field(default_factory=list)
    # order id -> [quantity (filled + remaining), filled]
    totals: dict[int, list[int]] = field(default_factory=dict)
    # order id -> the order as it now trades (an amend may give a sell new attributes)
    specs: dict[int, NewOrder] = field(default_factory=dict)
    events: int = 0

    def __post_init__(self) -> None:
        net = self.market.network
        self.live, self.ref, self.replica = Book(net), ReferenceBook(net), Book(net)
        self.restored = Book.restore(net, [], 0)

    def run(self, steps: list[tuple[int, tuple[Any, ...]]]) -> None:
        for dt, cmd in steps:
            self.now += dt
            self.step(cmd)

    def step(self, cmd: tuple[Any, ...]) -> list[Event]:
        if cmd[0] == "checkpoint":
            self.restored = Book.restore(
                self.market.network, self.live.orders(), self.live.sequence
            )
            return []
        before = self.live.sequence
        call = self._resolve(cmd)
        results = [call(book) for book in (self.live, self.ref, self.restored)]
        assert results[0] == results[1], (cmd, results[0], results[1])
        assert results[0] == results[2], (cmd, results[0], results[2])
        events = results[0]
        self.replica.apply(events)
        self.replica.apply(events)  # a second time: already applied, skipped
        self.check(before, events)
        self.events += len(events)
        return events

    def _resolve(self, cmd: tuple[Any, ...]) -> Any:
        """The command as one call, with ids chosen once for all the books."""
        name, now = cmd[0], self.now
        if name == "place":
            order = self._new_order(cmd)
            return lambda book: book.place(order, now)
        if name == "cancel":
            target = self._target(cmd[1])
            return lambda book: book.cancel(target, now)
        if name == "amend":
            target = self._target(cmd[1])
            price = None if cmd[2] is None else 88 + cmd[2]
            attributes = self._new_attributes(target, cmd[1])
            return lambda book: book.amend(
                target, now, price=price, remaining=cmd[3], attributes=attributes
            )
        if name == "expire":
            return lambda book: book.expire(now)
        if name == "cancel_all":
            return lambda book: book.cancel_all(cmd[1], now, side=cmd[2])
        assert name == "close"
        return lambda book: book.close(now, "halt")

    def _new_order(self, cmd: tuple[Any, ...]) -> NewOrder:
        # A fresh id per placement; now and then the id of a resting order.
        resting = self.live.orders()
        duplicate = cmd[10] == 60 and resting
        oid = resting[0].order_id if duplicate else len(self.ids) + 1
        self.ids.append(oid)
        return build_order(self.market, oid, self.now, cmd)

    def _new_attributes(self, target: int, index: int) -> Attributes | None:
        """Now and then a sell's amend brings its provider's new attributes (and
        rarely a buy's, which is invalid)."""
        spec = self.specs.get(target)
        pool = [a for a in self.market.attributes if a is not None]
        if spec is None or not pool or index % 3:
            return None
        if spec.side is SELL or index % 51 == 0:
            return pool[index % len(pool)]
        return None

    def _target(self, index: int) -> int:
        """Mostly a resting order; sometimes any order so far, or an unknown id."""
        resting = self.live.orders()
        if index % 10 == 9 or not self.ids:
            return 99_999
        if index % 10 < 7 and resting:
            return resting[index % len(resting)].order_id
        return self.ids[index % len(self.ids)]

    # -- checks ---------------------------------------------------------------

    def check(self, before: int, events: list[Event]) -> None:
        live = self.live
        orders = live.orders()
        assert orders == self.ref.orders()
        assert orders == self.replica.orders() == self.restored.orders()
        assert live.sequence == self.ref.sequence == self.replica.sequence
        assert live.sequence == self.restored.sequence
        self._check_sequences(before, events)
        self._check_quantities(events)
        self._check_fills_compatible(events)
        self._check_uncrossed()
        self._check_depth()

    def _check_sequences(self, before: int, events: list[Event]) -> None:
        if any(isinstance(e, Rejected) for e in events):
            assert len(events) == 1
            assert self.live.sequence == before
            return
        seqs = [e.seq for e in events if not isinstance(e, Rejected)]
        assert seqs == list(range(before + 1, before + 1 + len(seqs)))
        assert self.live.sequence == before + len(seqs)

    def _check_quantities(self, events: list[Event]) -> None:
        totals = self.totals
        for e in events:
            if isinstance(e, Accepted):
                totals[e.order_id] = [e.order.quantity, 0]
            elif isinstance(e, Amended):
                totals[e.order_id][0] = totals[e.order_id][1] + e.remaining
            elif isinstance(e, Fill):
                assert e.quantity > 0
                for oid, rem in (
                    (e.buy_order_id, e.buy_remaining),
                    (e.sell_order_id, e.sell_remaining),
                ):
                    totals[oid][1] += e.quantity
                    assert 0 <= rem == totals[oid][0] - totals[oid][1]
        for o in self.live.orders():
            total, filled = totals[o.order_id]
            assert 0 < o.remaining == total - filled

    def _check_fills_compatible(self, events: list[Event]) -> None:
        """No fill ever violates a constraint of its buy: every constraint meets
        the sell's attributes as it then traded, at the fill's surcharge."""
        specs, net = self.specs, self.market.network
        for e in events:
            if isinstance(e, Accepted):
                specs[e.order_id] = e.order
            elif isinstance(e, Amended) and e.attributes is not None:
                specs[e.order_id] = specs[e.order_id]._replace(attributes=e.attributes)
            elif isinstance(e, Fill):
                buy, sell = specs[e.buy_order_id], specs[e.sell_order_id]
                assert buy.constraints is not None
                s = surcharge_if_compatible(
                    net,
                    sell.region,
                    sell.stack,
                    buy.region,
                    buy.constraints,
                    sell.attributes,
                )
                assert s == e.surcharge, (e, buy, sell)

    def _check_uncrossed(self) -> None:
        orders = self.live.orders()
        sells = [o for o in orders if o.side is SELL]
        buys = [o for o in orders if o.side is BUY]
        net = self.market.network
        for s in sells:
            for b in buys:
                if s.participant_id == b.participant_id:
                    continue
                assert b.constraints is not None
                sur = surcharge_if_compatible(
                    net, s.region, s.stack, b.region, b.constraints, s.attributes
                )
                assert sur is None or s.price + sur > b.price, (s, b)

    def _check_depth(self) -> None:
        live, ref = self.live, self.ref
        assert live.best_ask() == ref.best_ask()
        assert live.best_bid() == ref.best_bid()
        assert [tuple(x) for x in live.asks()] == ref.asks()
        assert [tuple(x) for x in live.bids()] == ref.bids()
        for region in self.market.regions:
            assert live.locational_price(region) == ref.locational_price(region)
            stack = self.market.stacks[0]
            assert live.locational_price(region, stack) == ref.locational_price(
                region, stack
            )
            rows = live.asks_for(region)
            assert [r.all_in_price for r in rows] == sorted(
                r.all_in_price for r in rows
            )
            if rows:
                assert rows[0].all_in_price == live.locational_price(region)
