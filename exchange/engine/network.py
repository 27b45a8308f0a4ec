"""The frozen network an instrument trades on: surcharges, latencies, green shares.

Every compatibility rule of the market is decided here, per pair of buckets (a sell
bucket is a region, a stack and the sell's attributes, a buy bucket an origin region
and its constraints), so the book can cache the answer instead of checking orders
one by one. `exclusions` names every rule a pair fails, for explaining a book.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .orders import Attributes, Constraints, Region, Share, Stack


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
        attributes: Attributes | None,
        buy_region: Region,
        constraints: Constraints | None,
    ) -> int | None:
        """The surcharge if a sell bucket may trade with a buy bucket, else None.

        Participants are not a bucket property: self-trade is handled per order.
        None constraints mean none; a sell without attributes meets no attribute
        constraint.
        """
        s = self.surcharge_between(sell_region, buy_region)
        if s is None or constraints is None:
            return s
        (
            stacks,
            max_latency,
            regions,
            min_green,
            chips,
            vendors,
            min_memory,
            confidential,
            certifications,
            min_reliability,
        ) = constraints
        if stacks is not None and stack not in stacks:
            return None
        if regions is not None and sell_region not in regions:
            return None
        if max_latency is not None:
            latency = self.latency(sell_region, buy_region)
            # A link without a known latency cannot promise any bound.
            if latency is None or latency > max_latency:
                return None
        if min_green is not None:
            green = self.green_share.get(sell_region)
            if green is None or green < min_green:
                return None
        if (
            chips is None
            and vendors is None
            and min_memory is None
            and not confidential
            and not certifications
            and min_reliability is None
        ):
            return s
        if attributes is None:
            return None
        if _attribute_failures(attributes, constraints):
            return None
        return s

    def latency(self, sell_region: Region, buy_region: Region) -> int | None:
        """latency(a, b) in ms, 0 within a region unless given; None when unknown."""
        latency = self.latency_ms.get((sell_region, buy_region))
        if latency is None and sell_region == buy_region:
            return 0
        return latency

    def exclusions(
        self,
        sell_region: Region,
        stack: Stack,
        attributes: Attributes | None,
        buy_region: Region,
        constraints: Constraints,
    ) -> list[str]:
        """Every rule that keeps a sell bucket from a buy bucket, by name (empty
        exactly when `route` gives a surcharge): `link`, `stack`, `region`,
        `latency`, `green_share`, then the attributes' (see `ATTRIBUTE_RULES`)."""
        out = []
        if self.surcharge_between(sell_region, buy_region) is None:
            out.append("link")
        c = constraints
        if c.stacks is not None and stack not in c.stacks:
            out.append("stack")
        if c.regions is not None and sell_region not in c.regions:
            out.append("region")
        if c.max_latency_ms is not None:
            latency = self.latency(sell_region, buy_region)
            if latency is None or latency > c.max_latency_ms:
                out.append("latency")
        if c.min_green_share is not None:
            green = self.green_share.get(sell_region)
            if green is None or green < c.min_green_share:
                out.append("green_share")
        if attributes is None:
            out += [name for name in ATTRIBUTE_RULES if _asks_for(c, name)]
        else:
            out += _attribute_failures(attributes, c)
        return out


# The constraints on a sell's attributes, in the order `exclusions` names them.
ATTRIBUTE_RULES = (
    "chip",
    "vendor",
    "memory",
    "confidential",
    "certifications",
    "reliability",
)


def _asks_for(c: Constraints, rule: str) -> bool:
    """Whether the constraints ask anything of this attribute rule."""
    value = {
        "chip": c.chips,
        "vendor": c.vendors,
        "memory": c.min_memory_gb,
        "confidential": c.confidential or None,
        "certifications": c.certifications or None,
        "reliability": c.min_reliability,
    }[rule]
    return value is not None


def _attribute_failures(a: Attributes, c: Constraints) -> list[str]:
    """The attribute rules `a` fails under `c` (run once per pair of buckets)."""
    out = []
    if c.chips is not None and a.chip not in c.chips:
        out.append("chip")
    if c.vendors is not None and a.vendor not in c.vendors:
        out.append("vendor")
    if c.min_memory_gb is not None and (
        a.memory_gb is None or a.memory_gb < c.min_memory_gb
    ):
        out.append("memory")
    if c.confidential and not a.confidential:
        out.append("confidential")
    if c.certifications and not c.certifications <= a.certifications:
        out.append("certifications")
    if c.min_reliability is not None and (
        a.reliability is None or a.reliability < c.min_reliability
    ):
        out.append("reliability")
    return out
