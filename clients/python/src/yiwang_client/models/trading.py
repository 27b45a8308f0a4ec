"""Orders, fills, previews, batches and clusters."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from yiwang_client.models.common import (
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    model,
)


@model
class Constraints:
    stacks: list[str] | None
    max_latency_ms: int | None
    regions: list[str] | None
    residency_zone: str | None
    min_green_share: Decimal | None
    chips: list[str] | None
    vendors: list[str] | None
    min_memory_gb: int | None
    confidential: bool
    certifications: list[str] | None
    min_reliability: Decimal | None


@model
class SellAttributes:
    chip: str
    confidential: bool
    certifications: list[str]
    reliability: Decimal | None


@model
class Fill:
    trade_id: int
    order_id: int
    instrument: str
    side: Side
    price: Decimal
    surcharge: Decimal
    all_in_price: Decimal
    quantity: Decimal
    fee: Decimal
    liquidity: Liquidity
    executed_at: datetime
    carbon_kg: Decimal | None


@model
class Order:
    id: int
    instrument: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    post_only: bool
    price: Decimal
    quantity: Decimal
    client_order_id: str | None
    expires_at: datetime | None
    cluster: int | None
    region: str
    stack: str | None
    constraints: Constraints | None
    attributes: SellAttributes | None
    status: OrderStatus
    cancel_reason: str
    filled_quantity: Decimal
    remaining_quantity: Decimal
    average_price: Decimal | None
    created_at: datetime
    sequence: int | None


@model
class OrderWithFills(Order):
    """An order as placing or amending it answers: with the fills that produced."""

    fills: list[Fill]


@model
class PreviewFill:
    price: Decimal
    surcharge: Decimal
    all_in_price: Decimal
    quantity: Decimal
    region: str
    stack: str


@model
class RegionVerdict:
    region: str
    eligible: bool
    reason: str | None


@model
class OrderPreview:
    """What placing an order would do now (it writes nothing): as of `sequence`."""

    fills: list[PreviewFill]
    filled_quantity: Decimal
    average_price: Decimal | None
    fee: Decimal
    hold: Decimal
    bond: Decimal
    would_rest: bool
    regions: list[RegionVerdict]
    sequence: int
    replay_of: int | None


@model
class ErrorDetail:
    code: str
    message: str
    fields: dict[str, Any]


@model
class BatchResult:
    """One order of a batch: `order` when `status` is 201 or 200, else `error`."""

    status: int
    order: OrderWithFills | None = None
    error: ErrorDetail | None = None


@model
class Batch:
    results: list[BatchResult]


@model
class Cancelled:
    cancelled: list[int]


@model
class Capacity:
    instrument: str
    profile: str
    delivery_start: datetime
    delivery_end: datetime
    factor: Decimal
    scu_h: Decimal
    committed: Decimal
    free: Decimal


@model
class Cluster:
    id: int
    name: str
    region: str
    chip: str
    count: int
    stack: str
    confidential: bool
    certifications: list[str]
    verified: bool
    verified_at: datetime | None
    verified_count: int | None
    verified_confidential: bool
    verified_certifications: list[str]
    awaiting_check: bool
    capacity: list[Capacity]
    created_at: datetime
