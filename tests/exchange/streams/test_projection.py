"""The market stream's projection of the event log, against the engine itself: after
every command the projected levels are the engine's book, a crossing order never
shows as resting while it takes, and the numbering of events does not depend on how
the log was cut into reads (at commit boundaries)."""

import random
from decimal import Decimal

from exchange import codec, engine
from exchange.streams.projection import Projector

TICK, LOT = Decimal("0.01"), Decimal("0.1")
REGIONS = ("A", "B")
NETWORK = engine.Network({("A", "B"): 5, ("B", "A"): 5})


def _commands(seed: int, count: int) -> list[list]:
    """Rows of the log, one list per command, from a random order flow."""
    rng, book, commands, ids = random.Random(seed), engine.Book(NETWORK), [], 0
    for now in range(count):
        if book.orders() and rng.random() < 0.15:
            target = rng.choice(book.orders())
            if rng.random() < 0.5:
                events = book.cancel(target.order_id, now)
            else:
                price = target.price + rng.choice((-30, 0, 30))
                events = book.amend(target.order_id, now, price=max(price, 1))
        else:
            ids += 1
            events = book.place(_order(rng, ids), now)
        rows = [
            (e.seq, codec.EVENT_KINDS[type(e)], _order_id(e), codec.event_json(e))
            for e in events
            if not isinstance(e, engine.Rejected)
        ]
        if rows:
            commands.append((rows, book.asks(), book.bids()))
    return commands


def _order(rng: random.Random, order_id: int) -> engine.NewOrder:
    side = rng.choice((engine.Side.BUY, engine.Side.SELL))
    tif = rng.choice((engine.TimeInForce.GTC,) * 4 + (engine.TimeInForce.IOC,))
    return engine.NewOrder(
        order_id=order_id,
        participant_id=rng.randint(1, 6),
        side=side,
        price=1000 + rng.randint(-40, 40),
        quantity=rng.randint(1, 30),
        tif=tif,
        region=rng.choice(REGIONS),
        stack="CUDA" if side is engine.Side.SELL else None,
        constraints=engine.Constraints() if side is engine.Side.BUY else None,
    )


def _order_id(event) -> int:
    return event.taker_order_id if isinstance(event, engine.Fill) else event.order_id


def _levels(asks, bids) -> dict:
    out = {("sell", a.price, a.region, a.stack): a.quantity for a in asks}
    out |= {("buy", b.price, b.region, None): b.quantity for b in bids}
    return out


def _trades(rows) -> dict[int, dict]:
    return {seq: {"seq": seq} for seq, kind, _o, _d in rows if kind == "fill"}


def test_projected_levels_are_the_engines_book_after_every_command():
    """Folding each command's rows gives the engine's aggregated book; within a
    command no bid is ever above an ask (a taker joins its level after its fills)."""
    projector = Projector("S", TICK, LOT)
    for rows, asks, bids in _commands(seed=1, count=1500):
        events = projector.project(rows, _trades(rows))
        assert {k: q for k, q in projector.levels.items() if q} == _levels(asks, bids)
        book: dict = {}
        for event in events:
            if event.name == "level":
                d = event.data
                key = (d["side"], Decimal(d["price"]), d["region"], d["stack"])
                book[key] = Decimal(d["quantity"])
                bid = max(
                    (k[1] for k, q in book.items() if k[0] == "buy" and q), default=0
                )
                ask = min(
                    (k[1] for k, q in book.items() if k[0] == "sell" and q), default=99
                )
                assert bid <= ask + Decimal("0.05"), (event, rows)


def test_numbering_is_the_same_however_the_log_is_cut():
    """Reading command by command or many commands at once numbers every event the
    same, so a resumed client and another process agree on every id."""
    commands = _commands(seed=2, count=800)
    one = Projector("S", TICK, LOT)
    singly = [
        (e.seq, e.n, e.name, e.data)
        for rows, _a, _b in commands
        for e in one.project(rows, _trades(rows))
    ]
    other, chunked, rng, i = Projector("S", TICK, LOT), [], random.Random(3), 0
    while i < len(commands):
        take = rng.randint(1, 40)
        rows = [row for c in commands[i : i + take] for row in c[0]]
        chunked += [
            (e.seq, e.n, e.name, e.data) for e in other.project(rows, _trades(rows))
        ]
        i += take
    assert singly == chunked
    assert one.point == other.point
    assert [(s, n) for s, n, _, _ in singly] == sorted((s, n) for s, n, _, _ in singly)


def test_a_snapshot_lists_levels_as_the_book_endpoint_does():
    projector = Projector("S", TICK, LOT)
    projector.restore(
        [
            (1, "sell", 1010, "A", "CUDA", 30),
            (2, "sell", 1010, "A", "CUDA", 5),
            (3, "buy", 990, "B", None, 12),
        ],
        (7, 0),
    )
    assert projector.snapshot() == {
        "symbol": "S",
        "seq": 7,
        "asks": [{"price": "10.10", "quantity": "3.5", "region": "A", "stack": "CUDA"}],
        "bids": [{"price": "9.90", "quantity": "1.2", "region": "B"}],
    }
