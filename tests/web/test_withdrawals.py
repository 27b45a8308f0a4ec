"""The withdrawal page: a logged-in participant asks to be paid out, sees the request
listed as pending and the amount gone from its available balance at once; more than
available is refused beside the form; an operator's decision shows on the page."""

import re
from decimal import Decimal

import pytest
from django.db import transaction

from settlement.models import Account, WithdrawalRequest
from settlement.operators import withdrawal_pay, withdrawal_reject
from tests.operators import assert_reconciled, staff
from tests.web.conftest import html, text

pytestmark = pytest.mark.django_db
URL = "/funds/withdraw/"


def row(body: str, request: WithdrawalRequest) -> str:
    found = re.search(rf'<tr data-withdrawal="{request.pk}">(.*?)</tr>', body, re.S)
    assert found, body
    return text(found[1])


def available(participant) -> Decimal:
    return Account.objects.get(participant=participant, kind="available").balance


def test_request_is_listed_and_reserved(buyer_client, buyer):
    before = available(buyer)
    response = buyer_client.post(URL, {"amount": "1234.5"}, follow=True)
    body = html(response)
    assert "Withdrawal of 1234.5 CNY requested." in text(body)
    request = WithdrawalRequest.objects.get(participant=buyer)
    assert "1,234.50" in row(body, request)
    assert "pending" in row(body, request)
    assert available(buyer) == before - Decimal("1234.5")
    balances = html(buyer_client.get("/funds/"))
    assert "1 withdrawal request is waiting for an operator." in text(balances)
    assert "Pending withdrawal" in text(balances)
    assert_reconciled()


def test_more_than_available_is_refused_beside_the_form(buyer_client, buyer):
    before = available(buyer)
    too_much = before + Decimal("0.0001")
    body = html(buyer_client.post(URL, {"amount": str(too_much)}))
    assert f"This withdrawal needs {too_much} CNY; {before} CNY is available." in text(
        body
    )
    assert not WithdrawalRequest.objects.exists()
    assert available(buyer) == before


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "greater than or equal to 0.0001"),
        ("-1", "greater than or equal to 0.0001"),
        ("1.00001", "no more than 4 decimal places"),
        ("abc", "Enter a number."),
    ],
)
def test_bad_amount_is_refused(buyer_client, amount, message):
    body = html(buyer_client.post(URL, {"amount": amount}))
    assert 'class="field has-error' in body
    assert message in text(body)
    assert not WithdrawalRequest.objects.exists()


def test_the_operators_decision_shows(buyer_client, buyer):
    buyer_client.post(URL, {"amount": "10"})
    buyer_client.post(URL, {"amount": "20"})
    first, second = WithdrawalRequest.objects.order_by("pk")
    treasurer = staff("treasurer", "treasury")
    with transaction.atomic():
        withdrawal_pay(
            request_id=first.pk, operator=treasurer, reason="sent", now=first.created_at
        )
        withdrawal_reject(
            request_id=second.pk, operator=treasurer, reason="wrong account"
        )
    body = html(buyer_client.get(URL))
    assert "paid" in row(body, first)
    assert "rejected" in row(body, second)
    assert "wrong account" in row(body, second)
    assert_reconciled()


def test_only_own_requests_are_listed(buyer_client, seller_client, seller):
    seller_client.post(URL, {"amount": "5"})
    theirs = WithdrawalRequest.objects.get(participant=seller)
    assert f'data-withdrawal="{theirs.pk}"' not in html(buyer_client.get(URL))
