"""Deposit requests: a participant asks, an operator decides.

Approval credits the deposit exactly once, however often it is clicked or retried: the
status moves from `requested` by a conditional update whose row count is checked, and
the ledger entry is keyed `deposit-request:<id>`, so even a replay that got past the
update would post nothing. Every function runs inside the caller's durable transaction
(an admin action or a view opens it).
"""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from market.models import Participant
from settlement import money, services
from settlement.exceptions import SettlementError
from settlement.models import DepositRequest

MAX_DEPOSIT = Decimal("1000000000")


class DepositNotPending(SettlementError):
    """The deposit request was already approved or rejected."""

    code = "deposit_not_pending"


def deposit_request_create(
    *, participant: Participant, amount: Decimal, note: str = ""
) -> DepositRequest:
    """Record a request; nothing moves until it is approved."""
    if amount <= 0 or amount != amount.quantize(money.CENT4) or amount > MAX_DEPOSIT:
        raise SettlementError(
            "A deposit is a positive amount, to at most 4 decimal places.",
            fields={"amount": ["Out of range."]},
        )
    request = DepositRequest(participant=participant, amount=amount, note=note)
    request.full_clean()
    request.save()
    return request


def deposit_request_approve(
    *, request_id: int, operator: AbstractBaseUser | None
) -> DepositRequest:
    """Approve a pending request and credit the deposit from `external`, once.
    `operator` None means the demo (YIWANG_DEMO) approved it by itself. Raises
    DepositNotPending when it was already decided."""
    now = timezone.now()
    operator_id = getattr(operator, "pk", None)
    won = DepositRequest.objects.filter(
        pk=request_id, status=DepositRequest.Status.REQUESTED
    ).update(
        status=DepositRequest.Status.APPROVED,
        decided_by_id=operator_id,
        decided_at=now,
    )
    request = DepositRequest.objects.select_related("participant").get(pk=request_id)
    if not won:
        raise DepositNotPending(f"Deposit request {request_id} is {request.status}.")
    services.deposit_post(
        participant=request.participant,
        amount=request.amount,
        key=f"deposit-request:{request.pk}",
        memo=f"deposit request #{request.pk}",
        caused_by=operator,
    )
    return request


def deposit_request_reject(
    *, request_id: int, operator: AbstractBaseUser, note: str = ""
) -> DepositRequest:
    """Refuse a pending request; nothing is posted. A `note` replaces the
    participant's."""
    changes = {
        "status": DepositRequest.Status.REJECTED,
        "decided_by_id": operator.pk,
        "decided_at": timezone.now(),
    }
    if note:
        changes["note"] = note
    won = DepositRequest.objects.filter(
        pk=request_id, status=DepositRequest.Status.REQUESTED
    ).update(**changes)
    request = DepositRequest.objects.get(pk=request_id)
    if not won:
        raise DepositNotPending(f"Deposit request {request_id} is {request.status}.")
    return request
