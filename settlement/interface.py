"""Settlement's narrow interface to the exchange: what an order must set aside,
whether it fits, holds, bonds and fills.

The exchange calls these inside its own durable order transaction, while it holds the
instrument's lock (and the cluster's, for sells); they only plan work on a `Batch`,
which the exchange commits once, after matching, so every account the command touches
is locked in one statement. Settlement never imports the exchange: at each fill it is
handed the obligation and keeps its own record of it.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from core.db import Read, rows_insert, unsaved
from settlement import money
from settlement.exceptions import FundsMoved, FundsUncertain, InsufficientFunds
from settlement.funds import Funds
from settlement.ledger import (
    Batch,
    LedgerSnapshot,
    participant_account,
    platform_account,
)
from settlement.models import Account, Hold, Obligation
from settlement.persistence import delivered_quantity_select, reliability_read
from settlement.reconcile import CHECKS as LEDGER_CHECKS
from settlement.reconcile import (
    obligation_trade_ids,
    open_order_holds,
    unsettled_trade_counts,
)
from settlement.references import order_reference, trade_reference
from settlement.reliability import NEW_PROVIDER
from settlement.selectors import (
    available_balance,
    delivered_quantity_subquery,
    disputes_open,
    due_trade_ids,
    obligation_events,
    settlement_lag_seconds,
    unsettled_exists,
)
from settlement.services import (
    delivery_confirm,
    delivery_dispute,
    delivery_report,
    deposit_post,
    dispute_resolve,
    network_payout,
    trade_settle,
)

__all__ = [
    "LEDGER_CHECKS",
    "Batch",
    "Fill",
    "Funds",
    "FundsMoved",
    "FundsUncertain",
    "InsufficientFunds",
    "LedgerSnapshot",
    "amount",
    "available_account",
    "available_balance",
    "buy_hold_set",
    "delivered_quantity_select",
    "delivered_quantity_subquery",
    "delivery_confirm",
    "delivery_dispute",
    "delivery_report",
    "deposit_post",
    "dispute_resolve",
    "disputes_open",
    "due_trade_ids",
    "fee",
    "fill_record",
    "hold_kind",
    "network_payout",
    "obligation_events",
    "obligation_trade_ids",
    "obligations_save",
    "open_order_holds",
    "order_need",
    "order_reference",
    "order_release",
    "reliability_reads",
    "sell_bond_set",
    "settlement_lag_seconds",
    "trade_bond_slot",
    "trade_reference",
    "trade_settle",
    "unsettled_exists",
    "unsettled_trade_counts",
]


HUNDREDTH = Decimal("0.01")


def reliability_reads(participant_ids: set[int]) -> Read:
    """The providers' reliability as a sell takes it (rounded down to 0.01; a new
    provider's is the prior's), as a read to send with the placement's lock:
    {participant id: Decimal}."""
    base = reliability_read(participant_ids)

    def parse(rows: list) -> dict[int, Decimal]:
        found = base.parse(rows)
        return {
            pid: found.get(pid, NEW_PROVIDER).quantize(HUNDREDTH, ROUND_DOWN)
            for pid in participant_ids
        }

    return Read(base.sql, base.params, parse)


def available_account(participant_id: int) -> tuple:
    """The key of a participant's available balance, as the ledger names it."""
    return participant_account(Account.Kind.AVAILABLE, participant_id)


def order_need(
    *,
    side: str,
    quantity: Decimal,
    price: Decimal,
    maker_bps: int,
    taker_bps: int,
    bond_rate: Decimal,
) -> Decimal:
    """What an open order of `quantity` at `price` must have set aside: a buy's
    hold (qty x limit plus the fee at the larger rate), a sell's bond."""
    if side == "buy":
        return money.buy_hold(
            quantity=quantity, limit=price, maker_bps=maker_bps, taker_bps=taker_bps
        )
    return money.sell_bond(quantity=quantity, price=price, bond_rate=bond_rate)


def amount(value: Decimal) -> Decimal:
    """An exact amount (price x quantity) to the ledger's 4 places."""
    return money.money(value)


def fee(notional: Decimal, bps: int) -> Decimal:
    """A fee on `notional` at `bps`, as settlement charges it (rounded down)."""
    return money.fee(notional, bps)


def trade_bond_slot(trade_id: int) -> tuple[str, str]:
    """The (kind, reference) of a new trade's bond hold, for `Batch.holds_absent`."""
    return (Hold.Kind.TRADE_BOND, trade_reference(trade_id))


def hold_kind(side: str) -> str:
    """An order's hold: a buy's money in `held`, a sell's bond in `bond`."""
    return Hold.Kind.ORDER if side == "buy" else Hold.Kind.BOND


def buy_hold_set(
    batch: Batch,
    *,
    participant_id: int,
    order_id: int,
    instrument: str,
    amount: Decimal,
    cause: str,
) -> None:
    """Set an open buy's hold to what its remaining quantity needs."""
    batch.hold_set(
        kind=Hold.Kind.ORDER,
        reference=order_reference(order_id),
        participant_id=participant_id,
        instrument=instrument,
        amount=amount,
        key=f"hold:order:{order_id}:{cause}",
    )


def sell_bond_set(
    batch: Batch,
    *,
    participant_id: int,
    order_id: int,
    instrument: str,
    amount: Decimal,
    cause: str,
) -> None:
    """Set an open sell's bond to what its remaining quantity needs."""
    batch.hold_set(
        kind=Hold.Kind.BOND,
        reference=order_reference(order_id),
        participant_id=participant_id,
        instrument=instrument,
        amount=amount,
        key=f"bond:order:{order_id}:{cause}",
    )


def order_release(
    batch: Batch,
    *,
    side: str,
    participant_id: int,
    order_id: int,
    instrument: str,
    cause: str,
) -> Decimal:
    """The order is done (filled, cancelled, expired, closed): release what its hold
    or bond still has, exactly once."""
    kind = Hold.Kind.ORDER if side == "buy" else Hold.Kind.BOND
    return batch.hold_release(
        kind=kind,
        reference=order_reference(order_id),
        participant_id=participant_id,
        instrument=instrument,
        key=f"release:{kind}:order:{order_id}:{cause}",
    )


@dataclass(frozen=True, slots=True)
class Fill:
    """The obligation the exchange hands over at a fill."""

    trade_id: int
    instrument: str
    buyer_id: int
    seller_id: int
    buy_order_id: int
    sell_order_id: int
    quantity: Decimal
    price: Decimal  # at the seller's site, per SCU-h
    surcharge: Decimal  # network, per SCU-h
    buyer_fee_bps: int
    seller_fee_bps: int
    sell_price: Decimal  # the sell order's own price, which its bond was sized on
    bond_rate: Decimal
    delivery_start: datetime
    delivery_end: datetime
    report_deadline: datetime
    confirm_deadline: datetime
    region_id: int | None = None  # where it is delivered: the sell's cluster's


def fill_record(batch: Batch, fill: Fill) -> Obligation:
    """Move the buyer's all-in amount and fee from its hold to the instrument's escrow,
    attach the trade's share of the seller's bond, and record the obligation.

    Returns the (unsaved) obligation, which carries the amounts settlement decided
    (escrow, the buyer's fee, the bond); the batch's commit does not save it, the
    caller saves it with the trade (see `obligations_save`).
    """
    escrow = money.money(fill.quantity * (fill.price + fill.surcharge))
    buyer_fee = money.fee(escrow, fill.buyer_fee_bps)
    bond_amount = money.trade_bond(
        quantity=fill.quantity, price=fill.sell_price, bond_rate=fill.bond_rate
    )
    batch.hold_move(
        kind=Hold.Kind.ORDER,
        reference=order_reference(fill.buy_order_id),
        participant_id=fill.buyer_id,
        instrument=fill.instrument,
        to=[
            (platform_account(Account.Kind.ESCROW, fill.instrument), escrow + buyer_fee)
        ],
        entry_kind="fill",
        key=f"fill:trade:{fill.trade_id}",
    )
    bond = batch.hold(
        kind=Hold.Kind.BOND,
        reference=order_reference(fill.sell_order_id),
        participant_id=fill.seller_id,
        instrument=fill.instrument,
    )
    batch.hold_transfer(
        source=bond,
        kind=Hold.Kind.TRADE_BOND,
        reference=trade_reference(fill.trade_id),
        amount=bond_amount,
    )
    return unsaved(
        Obligation,
        trade_id=fill.trade_id,
        instrument=fill.instrument,
        buyer_id=fill.buyer_id,
        seller_id=fill.seller_id,
        quantity=fill.quantity,
        price=fill.price,
        surcharge=fill.surcharge,
        buyer_fee_bps=fill.buyer_fee_bps,
        seller_fee_bps=fill.seller_fee_bps,
        escrow_amount=escrow,
        buyer_fee_escrowed=buyer_fee,
        bond_amount=bond_amount,
        delivery_start=fill.delivery_start,
        delivery_end=fill.delivery_end,
        report_deadline=fill.report_deadline,
        confirm_deadline=fill.confirm_deadline,
        region_id=fill.region_id,
    )


def obligations_save(obligations: list[Obligation]) -> None:
    """Insert the obligations of a command (after the trades they refer to)."""
    rows_insert(obligations, returning=True)
