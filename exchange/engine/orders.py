"""Plain data the engine takes in and hands out: sides, time in force, a buy's
constraints, a sell's attributes, a new order, and the snapshot of a resting order.

Prices are integer ticks and quantities integer lots. Regions and stacks are any
hashable codes (the service passes strings). Time is whatever totally ordered value
the caller uses (int microseconds in tests): the engine only compares it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

type Region = Hashable
type Stack = Hashable
type Share = Decimal | int | float
# Only ever compared (`expires_at <= now`), so any ordered type works.
type Instant = Any


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class TimeInForce(StrEnum):
    GTC = "gtc"
    GTD = "gtd"
    IOC = "ioc"
    FOK = "fok"


class Constraints(NamedTuple):
    """What a buy accepts; also its bucket signature, hence immutable and hashable.

    A NamedTuple rather than a dataclass: it is hashed on every buy, and a tuple
    hashes in C. `regions` is already intersected with the residency zone. None (and
    a false `confidential`) asks for nothing; `certifications` are all required.
    """

    stacks: frozenset[Stack] | None = None
    max_latency_ms: int | None = None
    regions: frozenset[Region] | None = None
    min_green_share: Share | None = None
    chips: frozenset[Hashable] | None = None
    vendors: frozenset[Hashable] | None = None
    min_memory_gb: int | None = None
    confidential: bool | None = None
    certifications: frozenset[Hashable] | None = None
    min_reliability: Share | None = None


class Attributes(NamedTuple):
    """A sell's hardware and trust, part of its bucket signature with its region and
    stack: its chip (with the chip's vendor and memory per chip, which the chip
    decides), whether a verified TEE runs it, its verified certifications, and its
    provider's reliability as taken when the order got its place. None where unknown:
    an unknown figure meets no minimum."""

    chip: Hashable
    vendor: Hashable = None
    memory_gb: int | None = None
    confidential: bool = False
    certifications: frozenset[Hashable] = frozenset()
    reliability: Share | None = None


class NewOrder(NamedTuple):
    """An order as the service submits it.

    A sell carries `stack` (from its cluster), maybe `attributes`, and no
    constraints; a buy carries `constraints` (`Constraints()` when unconstrained)
    and neither stack nor attributes. `region` is the sell's site or the buy's
    origin. A market order is IOC or FOK at `price`, its
    protection price. A NamedTuple: immutable (it travels in `Accepted`) and cheap
    to build and read.
    """

    order_id: int
    participant_id: int
    side: Side
    price: int
    quantity: int
    tif: TimeInForce
    region: Region
    stack: Stack | None = None
    constraints: Constraints | None = None
    post_only: bool = False
    market: bool = False
    expires_at: Instant | None = None
    attributes: Attributes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RestingOrder:
    """A resting order as `Book.orders()` shows it and `Book.restore()` takes it.

    `priority` is the sequence number of the event that gave the order its place in
    the queue (its `Accepted`, or its last priority-losing `Amended`).
    """

    order_id: int
    participant_id: int
    side: Side
    price: int
    remaining: int
    priority: int
    tif: TimeInForce
    region: Region
    stack: Stack | None = None
    constraints: Constraints | None = None
    post_only: bool = False
    expires_at: Instant | None = None
    attributes: Attributes | None = None

    def as_new_order(self) -> NewOrder:
        """The order as if just submitted with its remaining quantity."""
        return NewOrder(
            order_id=self.order_id,
            participant_id=self.participant_id,
            side=self.side,
            price=self.price,
            quantity=self.remaining,
            tif=self.tif,
            region=self.region,
            stack=self.stack,
            constraints=self.constraints,
            post_only=self.post_only,
            expires_at=self.expires_at,
            attributes=self.attributes,
        )
