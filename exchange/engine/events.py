"""Events the engine emits, in order, for each command.

Every event that changes the book carries `seq`, the book's next gapless sequence
number; `Rejected` carries none and means the book did not change at all. The event
list of a book is its history: `Book.apply()` replays it on another instance.

Events are slotted dataclasses, not frozen ones: a frozen dataclass is slower to
build (each field goes through `object.__setattr__`), and a busy book builds one or
more per command. Treat them as values all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .orders import Attributes, NewOrder


class RejectCode(StrEnum):
    INVALID = "invalid"
    DUPLICATE_ORDER_ID = "duplicate_order_id"
    ORDER_NOT_OPEN = "order_not_open"
    FOK_NOT_FILLABLE = "fok_not_fillable"
    POST_ONLY_WOULD_CROSS = "post_only_would_cross"


class CancelReason(StrEnum):
    """Reasons the engine itself uses; callers may pass any string to cancel/close."""

    USER = "user"
    IOC = "ioc"
    SELF_TRADE = "self_trade"
    GATE = "gate"
    HALT = "halt"


@dataclass(slots=True)
class Accepted:
    """The order entered processing; its priority is `seq` if it comes to rest."""

    seq: int
    order_id: int
    order: NewOrder


@dataclass(slots=True)
class Fill:
    """A trade. `price` is the site price the seller receives; the buyer pays
    `price + surcharge` per lot. `*_remaining` are the orders' quantities after it."""

    seq: int
    buy_order_id: int
    sell_order_id: int
    maker_order_id: int
    taker_order_id: int
    price: int
    surcharge: int
    quantity: int
    buy_remaining: int
    sell_remaining: int


@dataclass(slots=True)
class Cancelled:
    seq: int
    order_id: int
    reason: str
    remaining: int


@dataclass(slots=True)
class Expired:
    seq: int
    order_id: int
    remaining: int


@dataclass(slots=True)
class Amended:
    """`priority_seq` is the old priority when kept, else this event's `seq`;
    `attributes`, a sell's new attributes when it lost priority with new ones."""

    seq: int
    order_id: int
    price: int
    remaining: int
    priority_seq: int
    attributes: Attributes | None = None


@dataclass(slots=True)
class Rejected:
    order_id: int
    code: RejectCode


type Event = Accepted | Fill | Cancelled | Expired | Amended | Rejected
type SequencedEvent = Accepted | Fill | Cancelled | Expired | Amended
