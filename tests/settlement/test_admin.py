"""The ledger admin: a manual adjustment is a proposal between one participant's
available balance and `external`, posted as one balanced entry only when a second
operator approves; a dispute is resolved the same way, by setting the delivered
quantity."""

from decimal import Decimal

import pytest

from market.models import Proposal
from settlement.models import Account, JournalEntry, Posting
from tests.factories import ParticipantFactory
from tests.operators import (
    approve,
    assert_reconciled,
    client_of,
    disputed_trade,
    messages_of,
    staff,
)
from tests.settlement.helpers import balance, deposit

pytestmark = pytest.mark.django_db
URL = "/admin/settlement/journalentry/adjust/"


@pytest.fixture
def treasury():
    return client_of(staff("treasurer", "treasury"))


@pytest.fixture
def supervisor():
    return client_of(staff("supervisor", "supervisor"))


def propose(client, participant, amount, reason="bank fee refund"):
    return client.post(
        URL,
        {"participant": participant.pk, "amount": amount, "reason": reason},
        follow=True,
    )


def test_adjustment_posts_only_when_a_second_operator_approves(treasury, supervisor):
    """Proposed: nothing moves; approved by another operator: one balanced entry
    from external to available, caused by the approver, with the reason."""
    p = ParticipantFactory()
    deposit(p, 100)
    response = propose(treasury, p, "5")
    proposal = Proposal.objects.get(kind="adjustment")
    assert "takes effect when a second operator approves" in messages_of(response)
    assert balance(p) == 100
    assert not JournalEntry.objects.filter(kind="adjustment").exists()
    assert_reconciled()

    approve(supervisor, proposal)
    entry = JournalEntry.objects.get(kind="adjustment")
    assert entry.memo == f"bank fee refund (proposal #{proposal.pk})"
    assert entry.caused_by.username == "supervisor"
    kinds = Posting.objects.filter(entry=entry).values_list("account__kind", "amount")
    assert sorted(kinds) == [("available", Decimal(5)), ("external", Decimal(-5))]
    assert balance(p) == 105
    assert_reconciled()


def test_adjustment_cannot_make_a_balance_negative(treasury, supervisor):
    p = ParticipantFactory()
    deposit(p, 1)
    propose(treasury, p, "-2", reason="oops")
    response = approve(supervisor, Proposal.objects.get())
    assert "Not enough" in messages_of(response)
    assert Proposal.objects.get().status == "pending"
    assert balance(p) == 1
    assert_reconciled()


def test_adjustment_form_has_no_other_accounts(treasury):
    """The old free-form lines (held, bond, escrow...) are not accepted: only a
    participant and an amount, which can only touch available and external."""
    p = ParticipantFactory()
    deposit(p, 100)
    held = Account.objects.create(participant=p, kind="held")
    response = treasury.post(URL, {"lines": f"{held.pk}: 5", "reason": "x"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Proposal.objects.exists()


def test_adjustment_needs_a_reason_and_a_non_zero_amount(treasury):
    p = ParticipantFactory()
    body = propose(treasury, p, "0", reason="x").content.decode()
    assert "non-zero" in body
    body = propose(treasury, p, "5", reason="").content.decode()
    assert "This field is required." in body
    assert not Proposal.objects.exists()


def test_operator_resolves_dispute_with_a_second_operator(supervisor):
    """The delivered quantity is set when the proposal is approved, not before."""
    ob = disputed_trade(ParticipantFactory(), ParticipantFactory(), trade_id=77)
    operator = client_of(staff("op", "operator"))
    operator.post(
        "/admin/settlement/obligation/",
        {
            "action": "resolve_dispute",
            "_selected_action": [ob.pk],
            "apply": "1",
            "delivered_quantity": "6.0",
            "reason": "logs show 6 SCU-h",
        },
    )
    ob.refresh_from_db()
    assert (ob.status, ob.delivered_quantity) == ("disputed", None)
    approve(supervisor, Proposal.objects.get(kind="dispute_resolution"))
    ob.refresh_from_db()
    assert (ob.status, ob.delivered_quantity) == ("confirmed", Decimal("6.0"))
    assert ob.resolved_by.username == "supervisor"
    assert_reconciled()


def test_dispute_resolution_refuses_off_grid_quantity():
    ob = disputed_trade(ParticipantFactory(), ParticipantFactory(), trade_id=78)
    operator = client_of(staff("op", "operator"))
    response = operator.post(
        "/admin/settlement/obligation/",
        {
            "action": "resolve_dispute",
            "_selected_action": [ob.pk],
            "apply": "1",
            "delivered_quantity": "11.0",
            "reason": "x",
        },
        follow=True,
    )
    assert "0.1 grid" in messages_of(response)
    assert not Proposal.objects.exists()
