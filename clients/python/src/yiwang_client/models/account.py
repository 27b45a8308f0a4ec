"""The account, its ledger, withdrawals, API keys and deliveries."""

from datetime import datetime
from decimal import Decimal

from yiwang_client.models.common import DeliveryStatus, WithdrawalStatus, model


@model
class Token:
    key: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None


@model
class Account:
    currency: str
    available: Decimal
    held: Decimal
    bond: Decimal
    withdrawal_pending: Decimal
    in_escrow: Decimal


@model
class Posting:
    id: int
    entry: int
    account: str
    amount: Decimal
    kind: str
    reference: str
    created_at: datetime


@model
class Withdrawal:
    """A withdrawal request: `pending` (its amount set aside), then `paid` or
    `rejected` (the amount back in `available`; `note` says why)."""

    id: int
    amount: Decimal
    status: WithdrawalStatus
    note: str
    created_at: datetime
    decided_at: datetime | None


@model
class Delivery:
    trade_id: int
    instrument: str
    role: str
    quantity: Decimal
    price: Decimal
    surcharge: Decimal
    all_in_price: Decimal
    delivered_quantity: Decimal | None
    status: DeliveryStatus
    delivery_start: datetime
    delivery_end: datetime
    report_deadline: datetime
    confirm_deadline: datetime
    reported_at: datetime | None
    confirmed_at: datetime | None
    disputed_at: datetime | None
    dispute_reason: str
    settled_at: datetime | None
