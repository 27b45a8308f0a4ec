"""Settlement's writes: deposits and withdrawals, operators' adjustments, delivery
reports, confirmations and disputes, and trade settlement after the window.

Each function runs inside the caller's transaction (entry points open it, durable) and
locks what it changes: the obligation row first, then the accounts through the batch.
Every movement is one balanced entry keyed by its cause, so repeating it posts once.
Reports, disputes, resolutions and settlements are recorded for notification in the
same transaction (settlement/notify.py says why).
"""

from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.contrib.auth.models import AbstractBaseUser

from market.models import Participant
from market.selectors import suspensions_overlapping
from settlement import money, notify
from settlement.exceptions import (
    DeliveryNotAllowed,
    NotFound,
    SettlementError,
)
from settlement.ledger import EXTERNAL, Batch, participant_account, platform_account
from settlement.models import Account, DeliveryReport, Hold, JournalEntry, Obligation
from settlement.references import trade_reference
from settlement.reliability import counted, reliability_refresh

AVAILABLE = Account.Kind.AVAILABLE
LOT = Decimal("0.1")
ZERO = Decimal(0)


def _positive_amount(amount: Decimal) -> Decimal:
    if amount <= 0 or amount != amount.quantize(money.CENT4):
        raise SettlementError("Amounts are positive, to at most 4 decimal places.")
    return amount


def deposit_post(
    *,
    participant: Participant,
    amount: Decimal,
    key: str,
    memo: str = "",
    caused_by: AbstractBaseUser | None = None,
) -> None:
    """Credit a deposit from `external` (the only account that may go negative)."""
    batch = Batch(caused_by_id=getattr(caused_by, "pk", None))
    batch.entry(
        kind="deposit",
        reference=f"participant:{participant.pk}",
        key=key,
        memo=memo,
        lines=[
            (EXTERNAL, -_positive_amount(amount)),
            (participant_account(AVAILABLE, participant.pk), amount),
        ],
    )
    batch.commit()


def withdrawal_post(
    *,
    participant: Participant,
    amount: Decimal,
    key: str,
    memo: str = "",
    caused_by: AbstractBaseUser | None = None,
) -> None:
    """Pay out from available at once, never beyond it (InsufficientFunds): a
    drill's or a test's shortcut. A participant's withdrawal is a request that an
    operator decides (settlement/withdrawals.py)."""
    batch = Batch(caused_by_id=getattr(caused_by, "pk", None))
    batch.entry(
        kind="withdrawal",
        reference=f"participant:{participant.pk}",
        key=key,
        memo=memo,
        lines=[
            (participant_account(AVAILABLE, participant.pk), -_positive_amount(amount)),
            (EXTERNAL, amount),
        ],
    )
    batch.commit()


def adjustment_post(
    *,
    participant: Participant,
    amount: Decimal,
    memo: str,
    key: str,
    caused_by: AbstractBaseUser,
) -> JournalEntry:
    """An operator's manual correction, between a participant's available balance
    and `external` only: held, bond, escrow, fees and network follow holds and
    trades, which an adjustment would leave out of step. A positive amount credits
    the participant, a negative one debits it (never below zero: InsufficientFunds).
    One balanced entry keyed `key`, so approving twice posts once."""
    if not memo.strip():
        raise SettlementError("An adjustment needs a reason.")
    if amount == 0 or amount != amount.quantize(money.CENT4):
        raise SettlementError("An adjustment is non-zero, to at most 4 places.")
    batch = Batch(caused_by_id=caused_by.pk)
    batch.entry(
        kind="adjustment",
        reference=f"participant:{participant.pk}",
        key=key,
        memo=memo,
        lines=[
            (EXTERNAL, -amount),
            (participant_account(AVAILABLE, participant.pk), amount),
        ],
    )
    return next(iter(batch.commit()), None) or JournalEntry.objects.get(
        idempotency_key=key
    )


def obligation_for_update(*, trade_id: int) -> Obligation:
    obligation = (
        Obligation.objects.select_for_update().filter(trade_id=trade_id).first()
    )
    if obligation is None:
        raise NotFound(f"No trade {trade_id}.")
    return obligation


def _check_quantity(obligation: Obligation, delivered: Decimal) -> None:
    if (
        delivered != delivered.quantize(LOT)
        or not 0 <= delivered <= obligation.quantity
    ):
        raise SettlementError(
            "Delivered SCU-h must be on the 0.1 grid, from 0 to "
            f"{obligation.quantity}.",
            fields={"delivered_quantity": ["Out of range or off the lot grid."]},
        )


def delivery_report(
    *,
    participant: Participant,
    trade_id: int,
    delivered: Decimal,
    now: datetime,
    reported_by: AbstractBaseUser | None = None,
) -> Obligation:
    """The provider reports cumulative delivered SCU-h; each report replaces the last,
    from the window start until the report deadline."""
    obligation = obligation_for_update(trade_id=trade_id)
    if obligation.seller_id != participant.pk:
        raise NotFound(f"No trade {trade_id}.")
    _check_quantity(obligation, delivered)
    if obligation.status not in (Obligation.Status.PENDING, Obligation.Status.REPORTED):
        raise DeliveryNotAllowed(f"Trade {trade_id} is {obligation.status}.")
    if not obligation.delivery_start <= now <= obligation.report_deadline:
        raise DeliveryNotAllowed(
            "Reports are accepted from the delivery start until the report deadline "
            f"({obligation.report_deadline.isoformat()})."
        )
    if obligation.reported_at is None and now > obligation.delivery_end:
        obligation.late_report = True  # the first report came after the window
    obligation.delivered_quantity = delivered
    obligation.status = Obligation.Status.REPORTED
    obligation.reported_at = now
    obligation.save(
        update_fields=["delivered_quantity", "status", "reported_at", "late_report"]
    )
    report = DeliveryReport.objects.create(
        obligation=obligation, delivered_quantity=delivered, reported_by=reported_by
    )
    notify.obligation_changed(obligation, "reported", at=now, ref=report.pk)
    return obligation


def delivery_confirm(
    *, participant: Participant, trade_id: int, now: datetime
) -> Obligation:
    """The buyer accepts the provider's report (before the confirm deadline)."""
    obligation = obligation_for_update(trade_id=trade_id)
    if obligation.buyer_id != participant.pk:
        raise NotFound(f"No trade {trade_id}.")
    if obligation.status != Obligation.Status.REPORTED:
        raise DeliveryNotAllowed(
            f"Trade {trade_id} is {obligation.status}: nothing to confirm."
        )
    if now > obligation.confirm_deadline:
        raise DeliveryNotAllowed("The confirmation period has ended.")
    obligation.status = Obligation.Status.CONFIRMED
    obligation.confirmed_at = now
    obligation.save(update_fields=["status", "confirmed_at"])
    return obligation


def delivery_dispute(
    *, participant: Participant, trade_id: int, now: datetime, reason: str = ""
) -> Obligation:
    """The buyer disputes: the trade waits for an operator to set what was delivered."""
    obligation = obligation_for_update(trade_id=trade_id)
    if obligation.buyer_id != participant.pk:
        raise NotFound(f"No trade {trade_id}.")
    if obligation.status not in (Obligation.Status.PENDING, Obligation.Status.REPORTED):
        raise DeliveryNotAllowed(f"Trade {trade_id} is {obligation.status}.")
    if not obligation.delivery_start <= now <= obligation.confirm_deadline:
        raise DeliveryNotAllowed(
            "Disputes are open from the delivery start until the confirmation deadline."
        )
    obligation.status = Obligation.Status.DISPUTED
    obligation.disputed_at = now
    obligation.dispute_reason = reason
    obligation.save(update_fields=["status", "disputed_at", "dispute_reason"])
    notify.obligation_changed(obligation, "disputed", at=now)
    return obligation


def dispute_resolve(
    *, trade_id: int, delivered: Decimal, resolved_by: AbstractBaseUser, now: datetime
) -> Obligation:
    """An operator sets what a disputed trade delivered; it can then settle."""
    obligation = obligation_for_update(trade_id=trade_id)
    if obligation.status != Obligation.Status.DISPUTED:
        raise DeliveryNotAllowed(f"Trade {trade_id} is not disputed.")
    _check_quantity(obligation, delivered)
    obligation.delivered_quantity = delivered
    obligation.status = Obligation.Status.CONFIRMED
    obligation.resolved_by = resolved_by
    obligation.resolved_at = now
    obligation.save(
        update_fields=["delivered_quantity", "status", "resolved_by", "resolved_at"]
    )
    notify.obligation_changed(obligation, "resolved", at=now)
    return obligation


def is_settleable(obligation: Obligation, now: datetime) -> bool:
    status = obligation.status
    if status == Obligation.Status.CONFIRMED:
        return now >= obligation.delivery_end
    if status in (Obligation.Status.PENDING, Obligation.Status.REPORTED):
        return now >= obligation.confirm_deadline  # silence counts as confirmation
    return False


def trade_settle(*, trade_id: int, now: datetime) -> bool:
    """Settle one trade, delivery versus payment, exactly once.

    Pays the seller delivered x price - its fee, the network delivered x surcharge,
    the platform both fees on the delivered quantity; refunds the buyer the
    undelivered part and its unused fee; pays the buyer the shortfall penalty from the
    trade bond and releases the rest of the bond; fixes what the provider's
    reliability score counts of it and refreshes that score. Returns False when
    there is nothing to do (already settled, or not yet due). Locks the obligation,
    then the accounts, then the provider's entity's participants.
    """
    ob = obligation_for_update(trade_id=trade_id)
    if ob.status == Obligation.Status.SETTLED or not is_settleable(ob, now):
        return False
    delivered = ob.delivered_quantity or Decimal("0.0")
    if ob.status == Obligation.Status.PENDING:
        delivered = Decimal("0.0")  # unreported delivery counts as zero
    excused = force_majeure(ob)
    batch = Batch()
    _settle_payments(batch, ob, delivered)
    _settle_bond(batch, ob, undelivered=max(ob.quantity - delivered - excused, ZERO))
    batch.commit()
    ob.counted_delivered, ob.dispute_lost, ob.late_report = counted(ob, delivered)
    if excused:  # the score leaves a force-majeure trade out
        ob.counted_delivered, ob.excused_quantity = None, excused
    ob.delivered_quantity = delivered
    ob.status = Obligation.Status.SETTLED
    ob.settled_at = now
    ob.save(
        update_fields=[
            "delivered_quantity",
            "status",
            "settled_at",
            "counted_delivered",
            "dispute_lost",
            "late_report",
            "excused_quantity",
        ]
    )
    reliability_refresh(participant_id=ob.seller_id, now=now)
    notify.obligation_changed(ob, "settled", at=now)
    return True


def force_majeure(ob: Obligation) -> Decimal:
    """The SCU-h of the trade a suspension of its delivery region excused: its
    quantity pro rata to the part of the window the region was suspended
    (DESIGN.md "Operators"), rounded down to the hundredth."""
    if ob.region_id is None:
        return ZERO
    spans = suspensions_overlapping(
        region_id=ob.region_id, start=ob.delivery_start, end=ob.delivery_end
    )
    if not spans:
        return ZERO
    suspended = sum(((b - a) for a, b in spans), timedelta())
    share = Decimal(suspended.total_seconds()) / Decimal(
        (ob.delivery_end - ob.delivery_start).total_seconds()
    )
    return (ob.quantity * share).quantize(Decimal("0.01"), ROUND_FLOOR)


def _settle_payments(batch: Batch, ob: Obligation, delivered: Decimal) -> None:
    """Empty the trade's escrow: the seller, the network and the fees are paid for
    what was delivered, the buyer gets back the rest and its unused fee."""
    delivered_all_in = money.money(delivered * ob.all_in_price)
    seller_gross = money.money(delivered * ob.price)
    seller_fee = money.fee(seller_gross, ob.seller_fee_bps)
    buyer_fee = money.fee(delivered_all_in, ob.buyer_fee_bps)
    undelivered = ob.quantity - delivered
    refund = (
        money.money(undelivered * ob.all_in_price) + ob.buyer_fee_escrowed - buyer_fee
    )
    escrowed = ob.escrow_amount + ob.buyer_fee_escrowed
    batch.entry(
        kind="settle",
        reference=trade_reference(ob.trade_id),
        key=f"settle:trade:{ob.trade_id}",
        lines=[
            (platform_account(Account.Kind.ESCROW, ob.instrument), -escrowed),
            (participant_account(AVAILABLE, ob.seller_id), seller_gross - seller_fee),
            (
                platform_account(Account.Kind.NETWORK, ob.instrument),
                money.money(delivered * ob.surcharge),
            ),
            (
                platform_account(Account.Kind.FEES, ob.instrument),
                buyer_fee + seller_fee,
            ),
            (participant_account(AVAILABLE, ob.buyer_id), refund),
        ],
    )


def _settle_bond(batch: Batch, ob: Obligation, *, undelivered: Decimal) -> None:
    """Pay the buyer the shortfall penalty from the trade's bond, release the rest."""
    bond = dict(
        kind=Hold.Kind.TRADE_BOND,
        reference=trade_reference(ob.trade_id),
        participant_id=ob.seller_id,
        instrument=ob.instrument,
    )
    penalty = money.penalty(
        bond=ob.bond_amount, undelivered=undelivered, quantity=ob.quantity
    )
    if penalty:
        batch.hold_move(
            **bond,
            to=[(participant_account(AVAILABLE, ob.buyer_id), penalty)],
            entry_kind="penalty",
            key=f"penalty:trade:{ob.trade_id}",
        )
    batch.hold_release(**bond, key=f"release:trade_bond:{ob.trade_id}")


def network_payout(*, instrument: str) -> Decimal:
    """Pay what the network account of a settled instrument holds to the network
    operator. Returns the amount (0 when none is owed or no operator is flagged)."""
    operator = Participant.objects.filter(is_network_operator=True).first()
    account = Account.objects.filter(
        kind=Account.Kind.NETWORK, instrument=instrument
    ).first()
    if operator is None or account is None or account.balance == 0:
        return Decimal(0)
    batch = Batch()
    batch.entry(
        kind="network_payout",
        reference=f"instrument:{instrument}",
        key=f"payout:network:{instrument}",
        lines=[
            (platform_account(Account.Kind.NETWORK, instrument), -account.balance),
            (participant_account(AVAILABLE, operator.pk), account.balance),
        ],
    )
    batch.commit()
    return account.balance
