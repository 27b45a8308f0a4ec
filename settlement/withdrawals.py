"""Withdrawal requests: a participant asks, the amount is reserved at once, a treasury
operator pays it out or rejects it.

Invariant kept: `withdrawal_pending` of each participant = the sum of its pending
requests. A request moves its amount from available to `withdrawal_pending` in the
transaction that records it (more than available: InsufficientFunds, nothing
written), so trading can never spend money that is on its way out. Paying moves it
on to `external`; rejecting moves it back to available. Each decision is a
conditional status update from `pending` whose row count is checked, plus an entry
keyed by the request and the step, so a repeated click or a replayed proposal posts
nothing more. Every function runs inside the caller's durable transaction (a view,
an admin action or an approved proposal opens it); the batch locks the accounts.
"""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from market.models import Participant
from settlement import money
from settlement.exceptions import InsufficientFunds, SettlementError
from settlement.ledger import EXTERNAL, Batch, participant_account
from settlement.models import Account, WithdrawalRequest

AVAILABLE = Account.Kind.AVAILABLE
PENDING = Account.Kind.WITHDRAWAL_PENDING
# Above any balance the ledger's columns can hold, well short of their limit.
MAX_WITHDRAWAL = Decimal("1000000000000")


class WithdrawalNotPending(SettlementError):
    """The withdrawal request was already paid or rejected."""

    code = "withdrawal_not_pending"


def withdrawal_reference(request_id: int) -> str:
    return f"withdrawal:{request_id}"


def withdrawal_amount_check(amount: Decimal) -> Decimal:
    """A withdrawal is a positive, finite amount on the 4-place grid."""
    if (
        not amount.is_finite()
        or amount <= 0
        or amount != amount.quantize(money.CENT4)
        or amount > MAX_WITHDRAWAL
    ):
        raise SettlementError(
            "A withdrawal is a positive amount, to at most 4 decimal places.",
            fields={"amount": ["Out of range or off the 0.0001 grid."]},
        )
    return amount


def withdrawal_request_create(
    *, participant: Participant, amount: Decimal
) -> WithdrawalRequest:
    """Record the request and reserve its amount from the available balance.
    Raises InsufficientFunds (the caller's transaction then rolls the row back)."""
    withdrawal_amount_check(amount)
    request = WithdrawalRequest(participant=participant, amount=amount)
    request.full_clean()
    request.save()
    batch = Batch()
    batch.entry(
        kind="withdrawal_request",
        reference=withdrawal_reference(request.pk),
        key=f"withdrawal-request:{request.pk}:reserve",
        memo=f"withdrawal request #{request.pk}",
        lines=[
            (participant_account(AVAILABLE, participant.pk), -amount),
            (participant_account(PENDING, participant.pk), amount),
        ],
    )
    try:
        batch.commit()
    except InsufficientFunds as exc:
        raise InsufficientFunds(
            f"This withdrawal needs {amount} CNY; {exc.available} CNY is available.",
            account=exc.account,
            available=exc.available,
        ) from exc
    return request


def _decide(
    request_id: int, status: str, operator: AbstractBaseUser, note: str = ""
) -> WithdrawalRequest:
    """Move a pending request to `status`, once. Raises WithdrawalNotPending."""
    changes = {
        "status": status,
        "decided_by_id": operator.pk,
        "decided_at": timezone.now(),
    }
    if note:
        changes["note"] = note
    won = WithdrawalRequest.objects.filter(
        pk=request_id, status=WithdrawalRequest.Status.PENDING
    ).update(**changes)
    request = WithdrawalRequest.objects.filter(pk=request_id).first()
    if request is None:
        raise WithdrawalNotPending(f"No withdrawal request {request_id}.")
    if not won:
        raise WithdrawalNotPending(
            f"Withdrawal request {request_id} is {request.status}."
        )
    return request


def withdrawal_request_pay(
    *, request_id: int, operator: AbstractBaseUser
) -> WithdrawalRequest:
    """Pay a pending request out: `withdrawal_pending` to `external`, once."""
    request = _decide(request_id, WithdrawalRequest.Status.PAID, operator)
    _post(request, "withdrawal", "pay", EXTERNAL, operator)
    return request


def withdrawal_request_reject(
    *, request_id: int, operator: AbstractBaseUser, note: str = ""
) -> WithdrawalRequest:
    """Refuse a pending request: its amount goes back to the available balance.
    `note` (the operator's reason) is shown to the participant."""
    request = _decide(request_id, WithdrawalRequest.Status.REJECTED, operator, note)
    back = participant_account(AVAILABLE, request.participant_id)
    _post(request, "withdrawal_return", "return", back, operator)
    return request


def _post(
    request: WithdrawalRequest,
    kind: str,
    step: str,
    to: tuple,
    operator: AbstractBaseUser,
) -> None:
    batch = Batch(caused_by_id=operator.pk)
    batch.entry(
        kind=kind,
        reference=withdrawal_reference(request.pk),
        key=f"withdrawal-request:{request.pk}:{step}",
        memo=f"withdrawal request #{request.pk}",
        lines=[
            (participant_account(PENDING, request.participant_id), -request.amount),
            (to, request.amount),
        ],
    )
    batch.commit()
