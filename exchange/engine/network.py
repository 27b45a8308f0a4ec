"""The frozen network an instrument trades on: surcharges, latencies, green shares.

Every compatibility rule of the market is decided here, per pair of buckets (a sell
bucket is a region and a stack, a buy bucket an origin region and its constraints),
so the book can cache the answer instead of checking orders one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .orders import Constraints, Region, Share, Stack


class Network:
    """Surcharge `s(a, b)` in ticks from a sell in `a` to a buyer from `b`.

    A pair missing from `surcharge` has no link and never trades. `s(a, a)` and
    `latency(a, a)` are 0 unless given. An unknown green share (missing or None)
    fails any minimum.
    """

    __slots__ = ("green_share", "latency_ms", "surcharge")

    # Keys are typed Any because Mapping is invariant in its key type: a caller's
    # dict[tuple[str, str], int] would not be accepted as tuple[Hashable, Hashable].
    def __init__(
        self,
        surcharge: Mapping[tuple[Any, Any], int],
        latency_ms: Mapping[tuple[Any, Any], int] | None = None,
        green_share: Mapping[Any, Share | None] | None = None,
    ) -> None:
        self.surcharge: dict[tuple[Region, Region], int] = dict(surcharge)
        self.latency_ms: dict[tuple[Region, Region], int] = dict(latency_ms or {})
        self.green_share: dict[Region, Share | None] = dict(green_share or {})

    def surcharge_between(self, sell_region: Region, buy_region: Region) -> int | None:
        """s(a, b), or None when the regions are not linked."""
        s = self.surcharge.get((sell_region, buy_region))
        if s is None and sell_region == buy_region:
            return 0
        return s

    def route(
        self,
        sell_region: Region,
        stack: Stack,
        buy_region: Region,
        constraints: Constraints | None,
    ) -> int | None:
        """The surcharge if a sell bucket may trade with a buy bucket, else None.

        Participants are not a bucket property: self-trade is handled per order.
        None constraints mean none.
        """
        s = self.surcharge_between(sell_region, buy_region)
        if s is None or constraints is None:
            return s
        stacks, max_latency, regions, min_green = constraints
        if stacks is not None and stack not in stacks:
            return None
        if regions is not None and sell_region not in regions:
            return None
        if max_latency is not None:
            latency = self.latency_ms.get((sell_region, buy_region))
            if latency is None and sell_region == buy_region:
                latency = 0
            # A link without a known latency cannot promise any bound.
            if latency is None or latency > max_latency:
                return None
        if min_green is not None:
            green = self.green_share.get(sell_region)
            if green is None or green < min_green:
                return None
        return s
