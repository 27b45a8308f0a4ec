"""Four-eyes: manual adjustments, deposit approvals above the configured amount,
dispute resolutions and table publications are proposals. They take effect only
when a second, different operator approves; the proposer cannot approve its own; a
proposal can be rejected and expires after 24 hours; both names and the reason are
kept. Money moves through the ledger's services, and reconciliation holds after
every step."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from market.exceptions import SelfApproval
from market.models import AuditEntry, ConversionTable, Proposal
from market.proposals import proposal_approve
from settlement.models import DepositRequest, JournalEntry
from settlement.operators import adjustment_propose
from tests.factories import ParticipantFactory
from tests.operators import approve, assert_reconciled, client_of, messages_of, staff
from tests.settlement.helpers import balance, deposit

pytestmark = pytest.mark.django_db
DEPOSITS = "/admin/settlement/depositrequest/"


@pytest.fixture
def alice():
    """Treasury and supervisor at once: may propose and approve, never both."""
    return staff("alice", "treasury", "supervisor")


@pytest.fixture
def bob():
    return staff("bob", "supervisor")


def approve_deposit(client, request, reason="wire received"):
    return client.post(
        DEPOSITS,
        {"action": "approve", "_selected_action": [request.pk], "reason": reason},
        follow=True,
    )


@override_settings(SETTLEMENT_FOUR_EYES_DEPOSIT_CNY="1000")
def test_large_deposit_waits_for_a_second_operator(alice, bob):
    """Above the limit, approving a deposit only proposes it; the proposer's own
    approval is refused; another operator's credits it, once."""
    p = ParticipantFactory()
    request = DepositRequest.objects.create(participant=p, amount=Decimal("5000"))
    body = messages_of(approve_deposit(client_of(alice), request))
    assert "takes effect when a second operator approves" in body
    request.refresh_from_db()
    assert request.status == "requested"
    assert balance(p) == 0
    assert_reconciled()

    proposal = Proposal.objects.get(kind="deposit_approval")
    body = messages_of(approve(client_of(alice), proposal))
    assert "a second operator must approve" in body
    assert balance(p) == 0
    assert Proposal.objects.get().status == "pending"

    approve(client_of(bob), proposal)
    request.refresh_from_db()
    assert (request.status, request.decided_by.username) == ("approved", "bob")
    assert balance(p) == 5000
    assert_reconciled()
    proposal.refresh_from_db()
    assert (proposal.proposed_by.username, proposal.decided_by.username) == (
        "alice",
        "bob",
    )
    assert proposal.reason == "wire received"

    body = messages_of(approve(client_of(staff("carol", "supervisor")), proposal))
    assert "already decided" in body
    assert balance(p) == 5000


@override_settings(SETTLEMENT_FOUR_EYES_DEPOSIT_CNY="1000")
def test_deposit_at_the_limit_needs_one_operator(alice):
    p = ParticipantFactory()
    request = DepositRequest.objects.create(participant=p, amount=Decimal("1000"))
    body = messages_of(approve_deposit(client_of(alice), request))
    assert f"Deposit request #{request.pk} approved and credited." in body
    assert balance(p) == 1000
    assert not Proposal.objects.exists()
    assert_reconciled()


def test_large_deposit_proposal_needs_a_reason(alice):
    p = ParticipantFactory()
    request = DepositRequest.objects.create(participant=p, amount=Decimal("500000"))
    body = messages_of(approve_deposit(client_of(alice), request, reason=""))
    assert "needs a reason" in body
    assert not Proposal.objects.exists()


def test_adjustment_approved_by_its_proposer_is_refused(alice, bob):
    """The service refuses, and so does the database (a CHECK constraint)."""
    p = ParticipantFactory()
    with transaction.atomic():
        proposal = adjustment_propose(
            participant_id=p.pk,
            amount=Decimal("7"),
            operator=alice,
            reason="refund",
            now=timezone.now(),
        )
    with pytest.raises(SelfApproval), transaction.atomic():
        proposal_approve(proposal_id=proposal.pk, approver=alice, now=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.filter(pk=proposal.pk).update(
            status="approved", decided_by=alice
        )
    assert balance(p) == 0
    with transaction.atomic():
        proposal_approve(proposal_id=proposal.pk, approver=bob, now=timezone.now())
    assert balance(p) == 7
    assert JournalEntry.objects.filter(kind="adjustment").count() == 1
    assert_reconciled()


def test_expired_proposal_cannot_be_approved(alice, bob):
    """24 hours after it was made, a proposal is refused and marked expired."""
    p = ParticipantFactory()
    deposit(p, 10)
    with transaction.atomic():
        proposal = adjustment_propose(
            participant_id=p.pk,
            amount=Decimal("7"),
            operator=alice,
            reason="refund",
            now=timezone.now() - timedelta(hours=24, seconds=1),
        )
    body = messages_of(approve(client_of(bob), proposal))
    assert "expired" in body
    proposal.refresh_from_db()
    assert proposal.status == "expired"
    assert balance(p) == 10
    assert_reconciled()


def test_rejected_proposal_does_nothing(alice, bob):
    p = ParticipantFactory()
    with transaction.atomic():
        proposal = adjustment_propose(
            participant_id=p.pk,
            amount=Decimal("7"),
            operator=alice,
            reason="refund",
            now=timezone.now(),
        )
    approve(client_of(bob), proposal, action="reject", reason="no ticket")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.decision_note) == (
        "rejected",
        bob,
        "no ticket",
    )
    assert "already decided" in messages_of(approve(client_of(bob), proposal))
    assert balance(p) == 0


def test_table_publication_waits_for_a_second_operator(alice, bob):
    """The admin's publish page proposes; approval publishes a new version."""
    versions = ConversionTable.objects.count()
    response = client_of(alice).post(
        "/admin/market/conversiontable/publish/",
        {"notes": "new chips", "reason": "Ascend 910C figures"},
        follow=True,
    )
    assert "takes effect when a second operator approves" in messages_of(response)
    assert ConversionTable.objects.count() == versions
    approve(client_of(bob), Proposal.objects.get(kind="table_publication"))
    table = ConversionTable.objects.latest()
    assert ConversionTable.objects.count() == versions + 1
    assert table.published_by == bob
    assert "new chips" in table.notes


def test_publish_command_makes_a_proposal(alice, bob):
    """`publish_conversion_table --operator` proposes; it publishes nothing."""
    versions = ConversionTable.objects.count()
    call_command(
        "publish_conversion_table",
        operator="alice",
        reason="quarterly",
        surcharges=True,
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    proposal = Proposal.objects.get(kind="table_publication")
    assert (proposal.proposed_by, proposal.payload["surcharges"]) == (alice, True)
    assert ConversionTable.objects.count() == versions
    with pytest.raises(CommandError, match="already acts"):
        call_command("publish_conversion_table", operator="bob", reason="again")
    approve(client_of(bob), proposal)
    assert ConversionTable.objects.count() == versions + 1
    assert AuditEntry.objects.filter(action="conversiontable.publish").exists()


def test_publish_command_needs_an_allowed_operator(db):
    with pytest.raises(CommandError):
        call_command("publish_conversion_table", reason="x")
    with pytest.raises(CommandError, match="not an active staff login"):
        call_command("publish_conversion_table", operator="nobody", reason="x")
    staff("viewer-2", "viewer")
    with pytest.raises(CommandError, match="may not propose"):
        call_command("publish_conversion_table", operator="viewer-2", reason="x")
    assert not Proposal.objects.exists()
