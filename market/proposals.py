"""Four-eyes proposals: one operator proposes, a second, different operator approves,
and only then does the action take effect, in the approver's transaction. A proposal
can be rejected, and expires 24 hours after it was made.

The app that owns an action registers what approving its proposals does
(`proposal_kind_register`, from its AppConfig.ready), so this module, and `market`,
import no other app. Each function runs inside the caller's transaction.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser

from market.audit import audit_record
from market.exceptions import (
    ProposalError,
    ProposalExists,
    ProposalExpired,
    ProposalNotPending,
    SelfApproval,
)
from market.models import Proposal

TTL = timedelta(hours=24)

# Carries out an approved proposal (inside the approver's transaction, with the
# proposal row locked) and returns what the audit row records as its outcome.
Applier = Callable[[Proposal, AbstractBaseUser, datetime], dict]
_appliers: dict[str, Applier] = {}


def proposal_kind_register(kind: str, apply: Applier) -> None:
    """Say what approving a proposal of `kind` does (once per process)."""
    _appliers[kind] = apply


def proposal_create(
    *,
    kind: str,
    target: str,
    summary: str,
    payload: dict,
    reason: str,
    proposed_by: AbstractBaseUser,
    now: datetime,
) -> Proposal:
    """Record a proposal (nothing else happens yet). Raises ProposalExists when a
    pending one already acts on `target`, ProposalError without a reason."""
    if not reason.strip():
        raise ProposalError("A proposal needs a reason.", fields={"reason": ["empty"]})
    if kind not in _appliers:
        raise ProposalError(f"Nothing carries out {kind} proposals.")
    pending = Proposal.objects.filter(
        kind=kind, target=target, status=Proposal.Status.PENDING, expires_at__gt=now
    ).first()
    if target and pending is not None:
        raise ProposalExists(f"Proposal #{pending.pk} already acts on it.")
    proposal = Proposal(
        kind=kind,
        target=target,
        summary=summary[:255],
        payload=payload,
        reason=reason.strip(),
        proposed_by=proposed_by,
        proposed_at=now,
        expires_at=now + TTL,
    )
    proposal.full_clean()
    proposal.save()
    audit_record(
        operator=proposed_by,
        action="proposal.create",
        target=proposal,
        after={"kind": kind, "target": target, "payload": payload},
        reason=proposal.reason,
        proposal=proposal,
    )
    return proposal


def proposal_for_update(proposal_id: int) -> Proposal:
    proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise ProposalNotPending(f"No proposal {proposal_id}.")
    return proposal


def _pending(proposal_id: int, now: datetime) -> Proposal:
    proposal = proposal_for_update(proposal_id)
    if proposal.is_expired(now) or proposal.status == Proposal.Status.EXPIRED:
        raise ProposalExpired(f"Proposal #{proposal.pk} expired.")
    if proposal.status != Proposal.Status.PENDING:
        raise ProposalNotPending(f"Proposal #{proposal.pk} is {proposal.status}.")
    return proposal


def proposal_approve(
    *, proposal_id: int, approver: AbstractBaseUser, now: datetime
) -> Proposal:
    """A second operator approves: the action takes effect now, in this
    transaction. Locks the proposal row, then what the action locks. Raises
    SelfApproval, ProposalNotPending, ProposalExpired, or the action's own error
    (then nothing is approved)."""
    proposal = _pending(proposal_id, now)
    if proposal.proposed_by_id == approver.pk:
        raise SelfApproval(f"Proposal #{proposal.pk} needs a second operator.")
    outcome = _appliers[proposal.kind](proposal, approver, now)
    _decide(proposal, Proposal.Status.APPROVED, approver, now)
    audit_record(
        operator=approver,
        action="proposal.approve",
        target=proposal,
        before={"status": Proposal.Status.PENDING},
        after={"status": proposal.status, **outcome},
        reason=proposal.reason,
        proposal=proposal,
    )
    return proposal


def proposal_reject(
    *, proposal_id: int, operator: AbstractBaseUser, note: str, now: datetime
) -> Proposal:
    """Refuse a pending proposal (its proposer may withdraw it so too); nothing
    else happens."""
    proposal = _pending(proposal_id, now)
    proposal.decision_note = note
    _decide(proposal, Proposal.Status.REJECTED, operator, now)
    audit_record(
        operator=operator,
        action="proposal.reject",
        target=proposal,
        before={"status": Proposal.Status.PENDING},
        after={"status": proposal.status},
        reason=note,
        proposal=proposal,
    )
    return proposal


def _decide(
    proposal: Proposal, status: str, operator: AbstractBaseUser, now: datetime
) -> None:
    proposal.status = status
    proposal.decided_by = operator
    proposal.decided_at = now
    proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


def proposals_expire(*, now: datetime) -> int:
    """Mark pending proposals past their 24 hours expired (approval refuses them
    anyway: this only keeps the list truthful). Returns how many."""
    return Proposal.objects.filter(
        status=Proposal.Status.PENDING, expires_at__lte=now
    ).update(status=Proposal.Status.EXPIRED)
