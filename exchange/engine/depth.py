"""Market data read from a book's buckets: best prices, depth, locational prices.

Ties between regions or stacks at one price are ordered by `repr`, which is the
plain order for the string codes the service uses, and does not depend on the order
in which buckets happened to be created (a restored book shows the same).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from .network import Network
from .orders import Region, Stack
from .state import _Bucket


class AskLevel(NamedTuple):
    price: int  # at the site
    region: Region
    stack: Stack
    quantity: int


class BidLevel(NamedTuple):
    price: int  # all-in, delivered to the origin
    region: Region
    quantity: int


class AllInAsk(NamedTuple):
    all_in_price: int
    price: int  # at the site
    surcharge: int
    region: Region
    stack: Stack
    quantity: int


def _top_price(bucket: _Bucket) -> int:
    return bucket.levels[bucket.heap[0]].price


def best_ask(buckets: Iterable[_Bucket]) -> int | None:
    prices = [_top_price(b) for b in buckets if b.heap]
    return min(prices) if prices else None


def best_bid(buckets: Iterable[_Bucket]) -> int | None:
    prices = [_top_price(b) for b in buckets if b.heap]
    return max(prices) if prices else None


def asks(buckets: Iterable[_Bucket]) -> list[AskLevel]:
    # Sells of one region and stack differ by attributes too: merged here.
    totals: dict[tuple[int, Region, Stack], int] = {}
    for b in buckets:
        if not b.heap:
            continue
        for level in b.levels.values():
            if level.qty:
                key = (level.price, b.region, b.stack)
                totals[key] = totals.get(key, 0) + level.qty
    rows = [AskLevel(p, region, stack, q) for (p, region, stack), q in totals.items()]
    rows.sort(key=lambda r: (r.price, repr(r.region), repr(r.stack)))
    return rows


def bids(buckets: Iterable[_Bucket]) -> list[BidLevel]:
    # Buckets differ by constraints too; the public view merges them per origin.
    totals: dict[tuple[int, Region], int] = {}
    for b in buckets:
        if not b.heap:
            continue
        for level in b.levels.values():
            if level.qty:
                key = (level.price, b.region)
                totals[key] = totals.get(key, 0) + level.qty
    rows = [BidLevel(price, region, qty) for (price, region), qty in totals.items()]
    rows.sort(key=lambda r: (-r.price, repr(r.region)))
    return rows


def locational_price(
    buckets: Iterable[_Bucket], network: Network, region: Region, stack: Stack | None
) -> int | None:
    best: int | None = None
    for b in buckets:
        if not b.heap or (stack is not None and b.stack != stack):
            continue
        s = network.surcharge_between(b.region, region)
        if s is not None:
            price = _top_price(b) + s
            if best is None or price < best:
                best = price
    return best


def asks_for(
    buckets: Iterable[_Bucket], network: Network, region: Region, stack: Stack | None
) -> list[AllInAsk]:
    totals: dict[tuple[int, int, Region, Stack], int] = {}
    for b in buckets:
        if not b.heap or (stack is not None and b.stack != stack):
            continue
        s = network.surcharge_between(b.region, region)
        if s is None:
            continue
        for level in b.levels.values():
            if level.qty:
                key = (level.price, s, b.region, b.stack)
                totals[key] = totals.get(key, 0) + level.qty
    rows = [
        AllInAsk(price + s, price, s, site, stk, qty)
        for (price, s, site, stk), qty in totals.items()
    ]
    rows.sort(key=lambda r: (r.all_in_price, r.price, repr(r.region), repr(r.stack)))
    return rows
