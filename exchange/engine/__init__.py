"""Yiwang's matching engine: one network-aware order book per instrument.

Pure Python, no Django: the service builds `NewOrder`s, calls a `Book` under the
instrument lock, and persists the events it returns. See `book` for the rules the
engine decides on its own and `matching` for the priority rules.
"""

from .book import Book
from .depth import AllInAsk, AskLevel, BidLevel
from .events import (
    Accepted,
    Amended,
    Cancelled,
    CancelReason,
    Event,
    Expired,
    Fill,
    RejectCode,
    Rejected,
    SequencedEvent,
)
from .network import Network
from .orders import Attributes, Constraints, NewOrder, RestingOrder, Side, TimeInForce

__all__ = [
    "Accepted",
    "AllInAsk",
    "Amended",
    "AskLevel",
    "Attributes",
    "BidLevel",
    "Book",
    "CancelReason",
    "Cancelled",
    "Constraints",
    "Event",
    "Expired",
    "Fill",
    "Network",
    "NewOrder",
    "RejectCode",
    "Rejected",
    "RestingOrder",
    "SequencedEvent",
    "Side",
    "TimeInForce",
]
