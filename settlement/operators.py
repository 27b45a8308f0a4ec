"""What operators do to money: deposit and withdrawal decisions, manual adjustments
and dispute resolutions, with their audit rows and four-eyes proposals
(market.proposals).

Adjustments, dispute resolutions, and approvals of deposits and payouts of
withdrawals above SETTLEMENT_FOUR_EYES_DEPOSIT_CNY are proposals: nothing moves until
a second operator approves, and then only through the services (one balanced entry,
keyed by its cause, so it posts once). Each function runs inside the caller's
transaction.
"""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from market.audit import audit_record
from market.models import Participant, Proposal
from market.proposals import proposal_create, proposal_kind_register
from settlement import deposits, money, services, withdrawals
from settlement.exceptions import DeliveryNotAllowed, NotFound, SettlementError
from settlement.models import Account, DepositRequest, Obligation, WithdrawalRequest


def deposit_four_eyes_above() -> Decimal:
    return Decimal(str(settings.SETTLEMENT_FOUR_EYES_DEPOSIT_CNY))


def _balance(participant_id: int, kind: str = Account.Kind.AVAILABLE) -> Decimal:
    account = Account.objects.filter(participant_id=participant_id, kind=kind).first()
    return account.balance if account else Decimal(0)


def deposit_approve(
    *, request_id: int, operator: AbstractBaseUser, reason: str, now: datetime
) -> DepositRequest | Proposal:
    """Approve a pending deposit request, or, above the four-eyes amount, propose
    approving it (returns the proposal). Raises DepositNotPending."""
    request = DepositRequest.objects.select_related("participant").get(pk=request_id)
    if request.status != DepositRequest.Status.REQUESTED:
        raise deposits.DepositNotPending(
            f"Deposit request {request_id} is {request.status}."
        )
    if request.amount <= deposit_four_eyes_above():
        return _deposit_credit(request_id, operator, reason, proposal=None)
    return proposal_create(
        kind=Proposal.Kind.DEPOSIT_APPROVAL,
        target=f"deposit-request:{request.pk}",
        summary=f"approve deposit request #{request.pk}: {request.amount} CNY "
        f"to {request.participant}",
        payload={"request_id": request.pk, "amount": request.amount},
        reason=reason,
        proposed_by=operator,
        now=now,
    )


def _deposit_credit(
    request_id: int,
    operator: AbstractBaseUser,
    reason: str,
    proposal: Proposal | None,
) -> DepositRequest:
    request = deposits.deposit_request_approve(request_id=request_id, operator=operator)
    audit_record(
        operator=operator,
        action="depositrequest.approve",
        target=request,
        before={"status": DepositRequest.Status.REQUESTED},
        after={
            "status": request.status,
            "amount": request.amount,
            "available": _balance(request.participant_id),
        },
        reason=reason,
        proposal=proposal,
    )
    return request


def deposit_reject(
    *, request_id: int, operator: AbstractBaseUser, reason: str
) -> DepositRequest:
    """Refuse a pending request; nothing is posted."""
    request = deposits.deposit_request_reject(request_id=request_id, operator=operator)
    audit_record(
        operator=operator,
        action="depositrequest.reject",
        target=request,
        before={"status": DepositRequest.Status.REQUESTED},
        after={"status": request.status},
        reason=reason,
    )
    return request


def withdrawal_pay(
    *, request_id: int, operator: AbstractBaseUser, reason: str, now: datetime
) -> WithdrawalRequest | Proposal:
    """Pay out a pending withdrawal request, or, above the four-eyes amount (the
    deposits' one: money crossing the platform's edge either way), propose paying
    it (returns the proposal). Raises WithdrawalNotPending."""
    request = WithdrawalRequest.objects.select_related("participant").get(pk=request_id)
    if request.status != WithdrawalRequest.Status.PENDING:
        raise withdrawals.WithdrawalNotPending(
            f"Withdrawal request {request_id} is {request.status}."
        )
    if request.amount <= deposit_four_eyes_above():
        return _withdrawal_payout(request_id, operator, reason, proposal=None)
    return proposal_create(
        kind=Proposal.Kind.WITHDRAWAL_PAYOUT,
        target=f"withdrawal-request:{request.pk}",
        summary=f"pay out withdrawal request #{request.pk}: {request.amount} CNY "
        f"to {request.participant}",
        payload={"request_id": request.pk, "amount": request.amount},
        reason=reason,
        proposed_by=operator,
        now=now,
    )


def _withdrawal_payout(
    request_id: int,
    operator: AbstractBaseUser,
    reason: str,
    proposal: Proposal | None,
) -> WithdrawalRequest:
    request = withdrawals.withdrawal_request_pay(
        request_id=request_id, operator=operator
    )
    audit_record(
        operator=operator,
        action="withdrawalrequest.pay",
        target=request,
        before={"status": WithdrawalRequest.Status.PENDING},
        after={
            "status": request.status,
            "amount": request.amount,
            "withdrawal_pending": _balance(
                request.participant_id, Account.Kind.WITHDRAWAL_PENDING
            ),
        },
        reason=reason,
        proposal=proposal,
    )
    return request


def withdrawal_reject(
    *, request_id: int, operator: AbstractBaseUser, reason: str
) -> WithdrawalRequest:
    """Refuse a pending request: the amount goes back to the available balance,
    and the reason is shown to the participant."""
    request = withdrawals.withdrawal_request_reject(
        request_id=request_id, operator=operator, note=reason
    )
    audit_record(
        operator=operator,
        action="withdrawalrequest.reject",
        target=request,
        before={"status": WithdrawalRequest.Status.PENDING},
        after={
            "status": request.status,
            "amount": request.amount,
            "available": _balance(request.participant_id),
        },
        reason=reason,
    )
    return request


def adjustment_propose(
    *,
    participant_id: int,
    amount: Decimal,
    operator: AbstractBaseUser,
    reason: str,
    now: datetime,
) -> Proposal:
    """Propose moving `amount` from `external` into the participant's available
    balance (negative: out of it). Nothing else can be adjusted."""
    participant = Participant.objects.filter(pk=participant_id).first()
    if participant is None:
        raise NotFound(f"No participant {participant_id}.")
    if amount == 0 or amount != amount.quantize(money.CENT4):
        raise SettlementError("An adjustment is non-zero, to at most 4 places.")
    return proposal_create(
        kind=Proposal.Kind.ADJUSTMENT,
        target="",
        summary=f"{amount:+} CNY to the available balance of {participant}",
        payload={"participant_id": participant.pk, "amount": amount},
        reason=reason,
        proposed_by=operator,
        now=now,
    )


def dispute_resolution_propose(
    *,
    trade_id: int,
    delivered: Decimal,
    operator: AbstractBaseUser,
    reason: str,
    now: datetime,
) -> Proposal:
    """Propose the delivered quantity of a disputed trade."""
    obligation = Obligation.objects.filter(trade_id=trade_id).first()
    if obligation is None:
        raise NotFound(f"No trade {trade_id}.")
    if obligation.status != Obligation.Status.DISPUTED:
        raise DeliveryNotAllowed(f"Trade {trade_id} is not disputed.")
    services._check_quantity(obligation, delivered)  # the grid rule's one home
    return proposal_create(
        kind=Proposal.Kind.DISPUTE_RESOLUTION,
        target=f"trade:{trade_id}",
        summary=f"trade {trade_id}: delivered {delivered} of "
        f"{obligation.quantity} SCU-h",
        payload={"trade_id": trade_id, "delivered": delivered},
        reason=reason,
        proposed_by=operator,
        now=now,
    )


# --- carrying out approved proposals (registered in SettlementConfig.ready) -------


def deposit_approval_approved(
    proposal: Proposal, approver: AbstractBaseUser, now: datetime
) -> dict:
    request_id = int(proposal.payload["request_id"])
    request = _deposit_credit(request_id, approver, proposal.reason, proposal)
    return {"deposit_request": request.pk, "amount": request.amount}


def withdrawal_payout_approved(
    proposal: Proposal, approver: AbstractBaseUser, now: datetime
) -> dict:
    request_id = int(proposal.payload["request_id"])
    request = _withdrawal_payout(request_id, approver, proposal.reason, proposal)
    return {"withdrawal_request": request.pk, "amount": request.amount}


def adjustment_approved(
    proposal: Proposal, approver: AbstractBaseUser, now: datetime
) -> dict:
    participant = Participant.objects.get(pk=proposal.payload["participant_id"])
    amount = Decimal(proposal.payload["amount"])
    entry = services.adjustment_post(
        participant=participant,
        amount=amount,
        memo=f"{proposal.reason} (proposal #{proposal.pk})",
        key=f"adjustment:proposal:{proposal.pk}",
        caused_by=approver,
    )
    available = _balance(participant.pk)
    audit_record(
        operator=approver,
        action="adjustment.post",
        target=participant,
        before={"available": available - amount},
        after={"available": available, "amount": amount, "entry": entry.pk},
        reason=proposal.reason,
        proposal=proposal,
    )
    return {"entry": entry.pk}


def dispute_resolution_approved(
    proposal: Proposal, approver: AbstractBaseUser, now: datetime
) -> dict:
    trade_id = int(proposal.payload["trade_id"])
    before = services.obligation_for_update(trade_id=trade_id)
    fields = ("status", "delivered_quantity")
    was = {name: getattr(before, name) for name in fields}
    obligation = services.dispute_resolve(
        trade_id=trade_id,
        delivered=Decimal(proposal.payload["delivered"]),
        resolved_by=approver,
        now=now,
    )
    audit_record(
        operator=approver,
        action="obligation.resolve",
        target=obligation,
        before=was,
        after={name: getattr(obligation, name) for name in fields},
        reason=proposal.reason,
        proposal=proposal,
    )
    return {"trade": trade_id, "delivered_quantity": obligation.delivered_quantity}


def register() -> None:
    """What approving settlement's proposals does (called once, at start-up)."""
    proposal_kind_register(Proposal.Kind.ADJUSTMENT, adjustment_approved)
    proposal_kind_register(Proposal.Kind.DEPOSIT_APPROVAL, deposit_approval_approved)
    proposal_kind_register(Proposal.Kind.WITHDRAWAL_PAYOUT, withdrawal_payout_approved)
    proposal_kind_register(
        Proposal.Kind.DISPUTE_RESOLUTION, dispute_resolution_approved
    )
