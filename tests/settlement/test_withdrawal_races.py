"""A withdrawal racing buy placements on one balance, with real threads on
PostgreSQL: placement checks funds against balances it read without a lock, the
withdrawal locks the accounts; together they never overdraw, nothing is
half-written, and `reconcile` holds."""

from decimal import Decimal

import pytest
from django.db import transaction

from exchange.models import Order
from exchange.services.orders import order_cancel
from settlement.exceptions import InsufficientFunds
from settlement.models import Account, Hold, WithdrawalRequest
from settlement.withdrawals import withdrawal_request_create
from tests.exchange.conftest import make_buyer, make_instrument, place
from tests.operators import assert_reconciled
from tests.threads import threads_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
MONEY = Decimal(1000)


def withdraw(participant, amount: str) -> WithdrawalRequest:
    with transaction.atomic(durable=True):
        return withdrawal_request_create(
            participant=participant, amount=Decimal(amount)
        )


def balances(participant) -> dict[str, Decimal]:
    return dict(
        Account.objects.filter(participant=participant).values_list("kind", "balance")
    )


def assert_conserved(buyer) -> dict[str, Decimal]:
    """Nothing negative; available + held + pending is what was deposited (no
    trade happens here); held and pending match the open holds and requests."""
    b = balances(buyer)
    assert all(v >= 0 for v in b.values()), b
    pending = b.get("withdrawal_pending", Decimal(0))
    assert b["available"] + b.get("held", Decimal(0)) + pending == MONEY, b
    holds = Hold.objects.filter(participant=buyer, status="open")
    assert b.get("held", Decimal(0)) == sum(
        holds.values_list("amount", flat=True), Decimal(0)
    )
    requests = WithdrawalRequest.objects.filter(participant=buyer, status="pending")
    assert pending == sum(requests.values_list("amount", flat=True), Decimal(0))
    return b


def test_withdrawal_and_buy_for_the_same_money_one_wins(catalogue):
    """Round after round, a buy needing 600.60 and a withdrawal of 600 start
    together on 1000 CNY: exactly one of them goes through, the other is refused
    with insufficient_funds and leaves no row behind."""
    instrument = make_instrument()
    for _round in range(6):
        buyer = make_buyer(money=MONEY)
        # Its held account exists, so placement takes the unlocked-snapshot path.
        tiny = place(buyer, instrument, "buy", "0.1", "10.00").order
        order_cancel(participant=buyer, order_id=tiny.pk)

        def race(i, buyer=buyer):
            if i == 0:
                return place(buyer, instrument, "buy", "60.0", "10.00").order
            return withdraw(buyer, "600")

        results = threads_together(2, race)
        refused = [r for r in results if isinstance(r, Exception)]
        assert [type(r) for r in refused] == [InsufficientFunds], results
        b = assert_conserved(buyer)
        if isinstance(results[0], Order):
            assert (b["held"], b.get("withdrawal_pending", 0)) == (Decimal("600.6"), 0)
            assert not WithdrawalRequest.objects.filter(participant=buyer).exists()
        else:
            assert (b["held"], b["withdrawal_pending"]) == (0, Decimal(600))
            assert not Order.objects.filter(participant=buyer, status="open").exists()
    assert_reconciled()


def test_many_withdrawals_and_buys_never_overdraw(catalogue):
    """Eight threads, four buying (250.25 each) and four withdrawing (250 each), on
    1000 CNY: at most 1000 is taken, every refusal is insufficient_funds, and the
    ledger reconciles."""
    instrument = make_instrument()
    buyer = make_buyer(money=MONEY)

    def act(i):
        if i % 2:
            return withdraw(buyer, "250")
        return place(buyer, instrument, "buy", "25.0", "10.00").order

    results = threads_together(8, act)
    refused = [r for r in results if isinstance(r, Exception)]
    assert {type(r) for r in refused} <= {InsufficientFunds}, refused
    orders = [r for r in results if isinstance(r, Order)]
    requests = [r for r in results if isinstance(r, WithdrawalRequest)]
    taken = len(orders) * Decimal("250.25") + len(requests) * Decimal(250)
    assert taken <= MONEY
    assert len(orders) + len(requests) >= 3  # 1000 covers any three of them
    b = assert_conserved(buyer)
    assert b["available"] == MONEY - taken
    assert_reconciled()
