"""What the models share: the decorator, the enumerations (as `Literal`s), pages."""

from dataclasses import dataclass
from typing import Literal

model = dataclass(frozen=True, slots=True, kw_only=True)

Side = Literal["buy", "sell"]
OrderType = Literal["limit", "market"]
TimeInForce = Literal["GTC", "GTD", "IOC", "FOK"]
OrderStatus = Literal["open", "partially_filled", "filled", "cancelled", "expired"]
InstrumentState = Literal["open", "halted", "closed", "settled"]
Product = Literal["day", "block", "special"]
ForwardProduct = Literal["day", "block"]
Basis = Literal["settlement", "last", "mid", "none"]
Liquidity = Literal["maker", "taker"]
DeliveryStatus = Literal["pending", "reported", "confirmed", "disputed", "settled"]
WithdrawalStatus = Literal["pending", "paid", "rejected"]
ChipKind = Literal["accelerator", "cpu"]
RegionRole = Literal["east-demand", "east-supply", "west-supply"]


@model
class Page[T]:
    """A page of a limit/offset list: `count` rows in all, `next` the following
    page's URL (None on the last)."""

    count: int
    next: str | None = None
    previous: str | None = None
    results: list[T]


@model
class CursorPage[T]:
    """A page of a cursor list (trades, fills, the ledger, deliveries), newest
    first; `next` the following page's URL (None on the last)."""

    next: str | None = None
    previous: str | None = None
    results: list[T]
