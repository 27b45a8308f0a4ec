"""Withdrawals: a request moves its amount from available to `withdrawal_pending` at
once; a treasury operator pays it out (to `external`) or rejects it (back to
available) from admin, each with its own permission and an audit row; payouts above
the four-eyes amount wait for a second operator. `reconcile` holds after every step."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.utils import timezone

from market.models import AuditEntry, Proposal
from settlement.exceptions import InsufficientFunds, SettlementError
from settlement.models import JournalEntry, Posting, WithdrawalRequest
from settlement.withdrawals import withdrawal_request_create
from tests.factories import ParticipantFactory
from tests.operators import (
    approve,
    assert_reconciled,
    client_of,
    messages_of,
    staff,
)
from tests.settlement.helpers import balance, deposit

pytestmark = pytest.mark.django_db
URL = "/admin/settlement/withdrawalrequest/"


def request(participant, amount) -> WithdrawalRequest:
    with transaction.atomic():
        return withdrawal_request_create(
            participant=participant, amount=Decimal(amount)
        )


def act(client, action, *requests, reason="bank transfer sent"):
    return client.post(
        URL,
        {
            "action": action,
            "_selected_action": [r.pk for r in requests],
            "reason": reason,
        },
        follow=True,
    )


def balances(participant) -> tuple[Decimal, Decimal]:
    return balance(participant), balance(participant, "withdrawal_pending")


def external() -> Decimal:
    postings = Posting.objects.filter(account__kind="external")
    return sum(postings.values_list("amount", flat=True), Decimal(0))


@pytest.fixture
def treasury():
    return client_of(staff("treasurer", "treasury"))


@pytest.fixture
def participant():
    p = ParticipantFactory()
    deposit(p, 100)
    return p


def test_request_then_pay_moves_the_money_out_once(participant, treasury):
    """Requested: available -> withdrawal_pending at once; paid: pending ->
    external, caused by the operator, with an audit row; paying again does
    nothing."""
    r = request(participant, "30.5")
    assert (r.status, r.decided_at) == ("pending", None)
    assert balances(participant) == (Decimal("69.5"), Decimal("30.5"))
    assert_reconciled()
    listed = treasury.get(URL).content.decode()
    assert '<option value="pay">' in listed
    assert "30.5000" in listed

    body = messages_of(act(treasury, "pay", r))
    assert f"Withdrawal request #{r.pk} paid out." in body
    r.refresh_from_db()
    assert (r.status, r.decided_by.username) == ("paid", "treasurer")
    assert r.decided_at is not None
    assert balances(participant) == (Decimal("69.5"), Decimal(0))
    assert external() == Decimal(-100) + Decimal("30.5")
    entry = JournalEntry.objects.get(kind="withdrawal", reference=f"withdrawal:{r.pk}")
    assert entry.caused_by.username == "treasurer"
    audit = AuditEntry.objects.get(action="withdrawalrequest.pay")
    assert (audit.operator.username, audit.reason) == (
        "treasurer",
        "bank transfer sent",
    )
    assert audit.after["status"] == "paid"
    assert_reconciled()

    body = messages_of(act(treasury, "pay", r))
    assert "is paid" in body
    assert JournalEntry.objects.filter(kind="withdrawal").count() == 1
    assert balances(participant) == (Decimal("69.5"), Decimal(0))
    assert_reconciled()


def test_request_then_reject_returns_the_money(participant, treasury):
    """Rejected: the amount comes back to available, the reason is kept for the
    participant, and a rejected request can no longer be paid."""
    r = request(participant, "40")
    assert_reconciled()
    body = messages_of(act(treasury, "reject", r, reason="account name mismatch"))
    assert f"Withdrawal request #{r.pk} rejected." in body
    r.refresh_from_db()
    assert (r.status, r.note) == ("rejected", "account name mismatch")
    assert balances(participant) == (Decimal(100), Decimal(0))
    assert AuditEntry.objects.filter(action="withdrawalrequest.reject").count() == 1
    assert_reconciled()

    assert "is rejected" in messages_of(act(treasury, "pay", r))
    assert not JournalEntry.objects.filter(kind="withdrawal").exists()
    assert external() == Decimal(-100)
    assert_reconciled()


def test_reject_needs_a_reason(participant, treasury):
    r = request(participant, "40")
    body = messages_of(act(treasury, "reject", r, reason=""))
    assert "Type the reason for the rejection." in body
    r.refresh_from_db()
    assert r.status == "pending"
    assert balances(participant) == (Decimal(60), Decimal(40))


def test_more_than_available_is_refused_and_writes_nothing(participant):
    """The refusal says what is available; no request, entry or balance is
    written. Exactly the available balance is accepted."""
    entries = JournalEntry.objects.count()
    with pytest.raises(InsufficientFunds) as refused:
        request(participant, "100.0001")
    assert str(refused.value) == (
        "This withdrawal needs 100.0001 CNY; 100.0000 CNY is available."
    )
    assert not WithdrawalRequest.objects.exists()
    assert JournalEntry.objects.count() == entries
    assert balances(participant) == (Decimal(100), Decimal(0))
    request(participant, "100")  # all of it is fine
    assert balances(participant) == (Decimal(0), Decimal(100))
    assert_reconciled()


@pytest.mark.parametrize("amount", ["0", "-1", "0.00001", "NaN", "Infinity"])
def test_amount_must_be_positive_finite_and_on_the_grid(participant, amount):
    with pytest.raises(SettlementError):
        request(participant, amount)
    assert not WithdrawalRequest.objects.exists()


def test_reconcile_sees_a_pending_balance_without_its_request(participant):
    """The new invariant can fail: a request marked paid whose money never left
    `withdrawal_pending` is reported."""
    from settlement.reconcile import withdrawals_match_requests, withdrawals_posted_once

    r = request(participant, "10")
    assert withdrawals_match_requests() == []
    WithdrawalRequest.objects.filter(pk=r.pk).update(
        status="paid", decided_at=timezone.now()
    )
    assert withdrawals_match_requests() == [
        f"participant {participant.pk} withdrawal_pending: account 10.0000, "
        "pending requests 0"
    ]
    assert withdrawals_posted_once() == [
        f"withdrawal request {r.pk} (paid): withdrawal posted []"
    ]


@pytest.mark.parametrize("group", ["viewer", "operator", "supervisor"])
def test_actions_refused_without_the_permission(participant, group):
    """Not offered to other groups, and posting them anyway changes nothing."""
    user = staff(f"{group}-1", group)
    model_admin = admin.site._registry[WithdrawalRequest]
    http = RequestFactory().get("/")
    http.user = user
    assert not {"pay", "reject"} & set(model_admin.get_actions(http))
    r = request(participant, "10")
    for action in ("pay", "reject"):
        act(client_of(user), action, r, reason="try")
    r.refresh_from_db()
    assert r.status == "pending"
    assert balances(participant) == (Decimal(90), Decimal(10))
    assert not AuditEntry.objects.filter(
        action__startswith="withdrawalrequest"
    ).exists()


def test_each_action_has_its_own_permission(participant):
    """Paying and rejecting are separate permissions: holding one offers only it."""
    model_admin = admin.site._registry[WithdrawalRequest]
    http = RequestFactory().get("/")
    http.user = staff("payer", perms=("settlement.pay_withdrawalrequest",))
    offered = set(model_admin.get_actions(http))
    assert "pay" in offered
    assert "reject" not in offered


@override_settings(SETTLEMENT_FOUR_EYES_DEPOSIT_CNY="1000")
def test_large_payout_waits_for_a_second_operator(participant):
    """Above the four-eyes amount, paying only proposes it; the proposer cannot
    approve its own proposal; a second operator's approval pays it out, once."""
    deposit(participant, 5000)
    alice = staff("alice", "treasury", "supervisor")
    bob = staff("bob", "supervisor")
    r = request(participant, "5000")
    body = messages_of(act(client_of(alice), "pay", r, reason="wire to bank"))
    assert "takes effect when a second operator approves" in body
    r.refresh_from_db()
    assert r.status == "pending"
    assert balances(participant) == (Decimal(100), Decimal(5000))
    proposal = Proposal.objects.get(kind="withdrawal_payout")
    assert proposal.target == f"withdrawal-request:{r.pk}"
    assert_reconciled()

    body = messages_of(approve(client_of(alice), proposal))
    assert "a second operator must approve" in body
    r.refresh_from_db()
    assert r.status == "pending"
    assert not JournalEntry.objects.filter(kind="withdrawal").exists()

    approve(client_of(bob), proposal)
    r.refresh_from_db()
    assert (r.status, r.decided_by.username) == ("paid", "bob")
    assert balances(participant) == (Decimal(100), Decimal(0))
    audit = AuditEntry.objects.get(action="withdrawalrequest.pay")
    assert (audit.operator.username, audit.proposal_id) == ("bob", proposal.pk)
    assert audit.reason == "wire to bank"
    assert_reconciled()


@override_settings(SETTLEMENT_FOUR_EYES_DEPOSIT_CNY="1000")
def test_payout_at_the_limit_needs_one_operator(participant, treasury):
    deposit(participant, 1000)
    r = request(participant, "1000")
    assert f"#{r.pk} paid out." in messages_of(act(treasury, "pay", r))
    assert not Proposal.objects.exists()
    assert_reconciled()


@override_settings(SETTLEMENT_FOUR_EYES_DEPOSIT_CNY="1000")
def test_a_rejected_request_cannot_be_paid_by_its_pending_proposal(participant):
    """A payout proposal approved after the request was rejected pays nothing:
    the money went back to available once, and stays there."""
    deposit(participant, 5000)
    alice = staff("alice", "treasury")
    r = request(participant, "5000")
    act(client_of(alice), "pay", r, reason="wire")
    act(client_of(alice), "reject", r, reason="fraud check failed")
    proposal = Proposal.objects.get(kind="withdrawal_payout")
    body = messages_of(approve(client_of(staff("bob", "supervisor")), proposal))
    assert "is rejected" in body
    proposal.refresh_from_db()
    assert proposal.status == "pending"
    assert balances(participant) == (Decimal(5100), Decimal(0))
    assert not JournalEntry.objects.filter(kind="withdrawal").exists()
    assert_reconciled()
