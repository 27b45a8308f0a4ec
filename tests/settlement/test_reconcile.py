"""Each ledger invariant `manage.py reconcile` checks, broken on purpose with raw SQL
in exactly one way: reconcile names it and exits 1. Where the database refuses the
corruption (a ledger trigger, a CHECK constraint), the test shows that first, then
lifts the guard inside its own transaction to show reconcile would still catch it."""

from decimal import Decimal

import pytest

from market.models import Participant
from settlement.models import Account, WithdrawalRequest
from settlement.withdrawals import withdrawal_request_create
from tests.faults import (
    Case,
    Check,
    Market,
    Trigger,
    assert_reported,
    balance_add,
    entry_insert,
    market_build,
    money_move,
    postings_insert,
)

pytestmark = pytest.mark.django_db

ENTRIES = "every journal entry sums to zero"
TOTAL = "all postings sum to zero"
BALANCES = "each stored balance equals the sum of its postings"
NEGATIVE = "no participant balance is negative"
HOLDS = "held and bond equal their open holds"
ESCROW = "escrow equals the unsettled trades"
SETTLED = "each trade settles exactly once"
WITHDRAWALS = "withdrawal_pending equals the pending withdrawal requests"
WITHDRAWN_ONCE = "each withdrawal request is reserved and decided once"

ONE = Decimal("1.0000")
BALANCED = Trigger("settlement_posting", "settlement_posting_balanced", "unbalanced")
POSTINGS_APPEND_ONLY = Trigger(
    "settlement_posting", "settlement_posting_append_only", "append-only"
)
ENTRIES_APPEND_ONLY = Trigger(
    "settlement_journalentry", "settlement_journalentry_append_only", "append-only"
)


def legs_split(cursor, m: Market) -> None:
    """Two entries each get one leg of a transfer: neither sums to zero, though
    all postings together and every balance still add up."""
    first, second = m.entries()
    available = m.account("available")
    postings_insert(cursor, [(first, available, ONE), (second, available, -ONE)])


def leg_alone(cursor, m: Market) -> None:
    """A posting with no other leg, its balance moved with it: money from nowhere."""
    available = m.account("available")
    postings_insert(cursor, [(m.entries()[0], available, ONE)])
    balance_add(cursor, available, ONE)


def balance_edited(cursor, m: Market) -> None:
    balance_add(cursor, m.account("available"), ONE)


def posting_edited(cursor, m: Market) -> None:
    cursor.execute(
        "UPDATE settlement_posting SET amount = amount + 1 WHERE id = "
        "(SELECT MIN(id) FROM settlement_posting WHERE account_id = %s)",
        [m.account("available")],
    )


def posting_deleted(cursor, m: Market) -> None:
    cursor.execute(
        "DELETE FROM settlement_posting WHERE id = "
        "(SELECT MAX(id) FROM settlement_posting WHERE account_id = %s)",
        [m.account("available")],
    )


def overdrawn(cursor, m: Market) -> None:
    """All of the buyer's money and one yuan more paid out: a sound entry that
    leaves `available` at -1."""
    available = m.account("available")
    amount = Account.objects.get(pk=available).balance + ONE
    money_move(cursor, "corrupt:overdrawn", available, m.external(), amount)


def held_without_hold(cursor, m: Market) -> None:
    money_move(cursor, "corrupt:held", m.account("available"), m.account("held"), ONE)


def escrow_without_trade(cursor, m: Market) -> None:
    escrow = m.account("escrow", platform=True)
    money_move(cursor, "corrupt:escrow", m.account("available"), escrow, ONE)


def pending_without_request(cursor, m: Market) -> None:
    """Money moved into `withdrawal_pending` with no request asking for it."""
    pending, _new = Account.objects.get_or_create(
        kind=Account.Kind.WITHDRAWAL_PENDING, participant_id=m.buyer_id
    )
    money_move(cursor, "corrupt:pending", m.account("available"), pending.pk, ONE)


def reserve_relabelled(cursor, m: Market) -> None:
    """A pending request whose reserving entry was relabelled: the balances and
    the request still agree, but the request's money has no cause on the ledger."""
    request = withdrawal_request_create(
        participant=Participant.objects.get(pk=m.buyer_id), amount=ONE
    )
    assert WithdrawalRequest.objects.filter(pk=request.pk, status="pending").exists()
    cursor.execute(
        "UPDATE settlement_journalentry SET kind = 'corrupt' "
        "WHERE kind = 'withdrawal_request' AND reference = %s",
        [f"withdrawal:{request.pk}"],
    )


def settlement_entry_early(cursor, m: Market) -> None:
    """A settlement entry for a trade still awaiting delivery."""
    reference = f"trade:{m.trade_id}"
    entry_insert(cursor, "corrupt:settle", kind="settle", reference=reference)


def entry_relabelled(cursor, m: Market) -> None:
    """A fill's entry relabelled as the trade's settlement."""
    cursor.execute(
        "UPDATE settlement_journalentry SET kind = 'settle', reference = %s "
        "WHERE id = (SELECT MAX(id) FROM settlement_journalentry WHERE kind = 'fill')",
        [f"trade:{m.trade_id}"],
    )


CASES = [
    Case("legs-split", ENTRIES, legs_split, guard=BALANCED),
    Case("leg-alone", TOTAL, leg_alone, frozenset({ENTRIES}), guard=BALANCED),
    Case("balance-edited", BALANCES, balance_edited),
    Case(
        "posting-edited",
        BALANCES,
        posting_edited,
        frozenset({ENTRIES, TOTAL}),
        guard=POSTINGS_APPEND_ONLY,
    ),
    Case(
        "posting-deleted",
        BALANCES,
        posting_deleted,
        frozenset({ENTRIES, TOTAL}),
        guard=POSTINGS_APPEND_ONLY,
    ),
    Case(
        "overdrawn",
        NEGATIVE,
        overdrawn,
        guard=Check("settlement_account", "account_balance_non_negative"),
    ),
    Case("held-without-hold", HOLDS, held_without_hold),
    Case("escrow-without-trade", ESCROW, escrow_without_trade),
    Case("pending-without-request", WITHDRAWALS, pending_without_request),
    Case(
        "reserve-relabelled",
        WITHDRAWN_ONCE,
        reserve_relabelled,
        guard=ENTRIES_APPEND_ONLY,
    ),
    Case("settled-early", SETTLED, settlement_entry_early),
    Case("entry-relabelled", SETTLED, entry_relabelled, guard=ENTRIES_APPEND_ONLY),
]


@pytest.fixture
def market() -> Market:
    return market_build()


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_reconcile_reports_a_corrupted_ledger(case, market):
    """Reconcile passes on the market, and after the corruption exits 1 naming the
    invariant it breaks (and only those it must break with it)."""
    assert_reported(case, market)
