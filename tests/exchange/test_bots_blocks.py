"""The example bots trade blocks as well as days: the market maker quotes each of
the profile's next open products (a day and its blocks) in one batch, and the ZI-C
trader draws its instrument among them (or among the products it is told)."""

import argparse
import random
from decimal import Decimal
from types import SimpleNamespace

from exchange.bots import market_maker, zic


def row(symbol: str, product: str) -> SimpleNamespace:
    """An instrument as the client's model has it (the fields the bots read)."""
    return SimpleNamespace(
        symbol=symbol,
        product=product,
        tick_size=Decimal("0.01"),
        last_price=None,
        reference_price=None,
    )


ROWS = [
    row("TRAIN-20261208", "day"),
    *(row(f"TRAIN-20261208-B{h:02d}{h + 4:02d}", "block") for h in range(0, 24, 4)),
]


class Stub:
    """What the bots ask of the API (the client's methods), answered from ROWS."""

    def __init__(self):
        self.batches = []

    def open_instruments(self, *, profile, products):
        return [r for r in ROWS if r.product in products]

    def get_locational_prices(self, *, symbol):
        row = SimpleNamespace(region="CLU-GUIAN", price=Decimal("10.00"))
        return SimpleNamespace(results=[row])

    def cancel_orders(self, **params):
        return SimpleNamespace(cancelled=[])

    def place_orders(self, orders):
        self.batches.append(orders)
        results = [SimpleNamespace(status=201, order=o, error=None) for o in orders]
        return SimpleNamespace(results=results)


def args(**kw):
    base = {"symbol": None, "profile": "train", "products": "day,block"}
    base |= {"horizon": 7, "spread": "0.40", "quantity": "20.0", "region": "CLU-GUIAN"}
    return argparse.Namespace(**(base | kw))


def test_market_maker_quotes_the_day_and_its_blocks_in_one_batch():
    client = Stub()
    market_maker.requote(client, args(), SimpleNamespace(id=1))
    [batch] = client.batches
    assert {o.instrument for o in batch} == {r.symbol for r in ROWS}
    assert len(batch) == 2 * len(ROWS)  # a bid and an ask each


def test_market_maker_quotes_only_blocks_when_told():
    client = Stub()
    market_maker.requote(
        client, args(products="block", horizon=3), SimpleNamespace(id=1)
    )
    [batch] = client.batches
    assert {o.instrument for o in batch} == {r.symbol for r in ROWS[1:4]}


def test_zic_draws_blocks_too():
    rng = random.Random(1)
    drawn = {zic.pick(Stub(), args(), rng).symbol for _ in range(200)}
    assert drawn == {r.symbol for r in ROWS}
    only = {zic.pick(Stub(), args(products="block"), rng).product for _ in range(50)}
    assert only == {"block"}
