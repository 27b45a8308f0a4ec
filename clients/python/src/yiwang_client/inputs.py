"""Request bodies that are objects: an order to place (alone or in a batch) and a buy
order's constraints. Decimals are `Decimal` or `str`, never float."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from yiwang_client.models import OrderType, Side, TimeInForce

type Dec = Decimal | str
Certification = Literal[
    "MLPS2",
    "MLPS3",
    "MLPS4",
    "ISO27001",
    "ISO27017",
    "ISO27701",
    "SOC2",
    "TRUSTED-CLOUD",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstraintsInput:
    """A buy order's constraints; a field left None does not constrain."""

    stacks: list[str] | None = None
    max_latency_ms: int | None = None
    regions: list[str] | None = None
    residency_zone: str | None = None
    min_green_share: Dec | None = None
    chips: list[str] | None = None
    vendors: list[str] | None = None
    min_memory_gb: int | None = None
    confidential: bool | None = None
    certifications: list[Certification] | None = None
    min_reliability: Dec | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOrder:
    """An order to place, alone (`place_order(**fields)`) or in a batch. Without a
    `client_order_id` the client gives it one, so that sending it again after a
    lost answer returns the same order instead of placing a second."""

    instrument: str
    side: Side
    quantity: Dec
    price: Dec | None = None
    type: OrderType | None = None
    time_in_force: TimeInForce | None = None
    post_only: bool | None = None
    client_order_id: str | None = None
    expires_at: datetime | None = None
    cluster: int | None = None
    region: str | None = None
    constraints: ConstraintsInput | None = None
