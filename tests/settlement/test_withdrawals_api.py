"""Withdrawals over REST: `POST /api/v1/account/withdrawals/` reserves the amount at
once (201), more than available is 422 insufficient_funds with nothing written, a bad
amount is a 400; `GET` pages the participant's own requests, newest first, and shows
an operator's decision."""

import pytest
from django.db import transaction

from settlement.models import JournalEntry, WithdrawalRequest
from settlement.operators import withdrawal_reject
from tests.apiclient import client_for, error
from tests.exchange.conftest import make_buyer, make_instrument, place
from tests.operators import assert_reconciled, staff

pytestmark = pytest.mark.django_db
URL = "/api/v1/account/withdrawals/"


@pytest.fixture
def buyer():
    return make_buyer(money=1000)


@pytest.fixture
def api(buyer):
    return client_for(buyer)


def account(api) -> dict:
    return api.get("/api/v1/account/").json()


def test_request_reserves_the_amount_at_once(api):
    response = api.post(URL, {"amount": "250.50"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "amount", "status", "note", "created_at", "decided_at"}
    assert (body["amount"], body["status"], body["decided_at"]) == (
        "250.5000",
        "pending",
        None,
    )
    assert WithdrawalRequest.objects.get().pk == body["id"]
    balances = account(api)
    assert balances["available"] == "749.5000"
    assert balances["withdrawal_pending"] == "250.5000"
    assert_reconciled()


def test_more_than_available_is_422_and_writes_nothing(api, buyer):
    """Money held for an open bid is not available to withdraw."""
    place(buyer, make_instrument(), "buy", "50.0", "10.00")  # holds 500.5000
    entries = JournalEntry.objects.count()
    response = api.post(URL, {"amount": "500"}, format="json")
    assert response.status_code == 422
    assert error(response)["code"] == "insufficient_funds"
    assert error(response)["message"] == (
        "This withdrawal needs 500.0000 CNY; 499.5000 CNY is available."
    )
    assert not WithdrawalRequest.objects.exists()
    assert JournalEntry.objects.count() == entries
    assert account(api)["available"] == "499.5000"
    assert api.post(URL, {"amount": "499.5"}, format="json").status_code == 201
    assert_reconciled()


@pytest.mark.parametrize(
    "amount", ["0", "-5", "1.00001", "NaN", "Infinity", "1e3", "", 5, None]
)
def test_bad_amount_is_400(api, amount):
    response = api.post(URL, {"amount": amount}, format="json")
    assert response.status_code == 400, response.content
    assert error(response)["code"] == "validation_error"
    assert "amount" in error(response)["fields"]
    assert not WithdrawalRequest.objects.exists()


def test_missing_amount_is_400(api):
    response = api.post(URL, {}, format="json")
    assert response.status_code == 400
    assert error(response)["fields"]["amount"]


def test_list_pages_own_requests_newest_first(api, buyer):
    other = make_buyer(money=100)
    client_for(other).post(URL, {"amount": "1"}, format="json")
    ids = [api.post(URL, {"amount": "1"}, format="json").json()["id"] for _ in range(3)]
    page = api.get(URL, {"limit": 2}).json()
    assert page["count"] == 3
    assert [r["id"] for r in page["results"]] == ids[::-1][:2]
    assert page["next"]
    rest = api.get(URL, {"limit": 2, "offset": 2}).json()
    assert [r["id"] for r in rest["results"]] == [ids[0]]


def test_list_shows_the_operators_decision(api, buyer):
    created = api.post(URL, {"amount": "100"}, format="json").json()
    with transaction.atomic():
        withdrawal_reject(
            request_id=created["id"],
            operator=staff("treasurer", "treasury"),
            reason="account closed",
        )
    [row] = api.get(URL).json()["results"]
    assert (row["status"], row["note"]) == ("rejected", "account closed")
    assert row["decided_at"] is not None
    assert api.get(URL, {"status": "pending"}).json()["count"] == 0
    assert api.get(URL, {"status": "rejected"}).json()["count"] == 1
    assert account(api)["available"] == "1000.0000"
    assert_reconciled()


def test_unknown_query_and_bad_status_are_400(api):
    assert api.get(URL, {"sort": "id"}).status_code == 400
    assert api.get(URL, {"status": "lost"}).status_code == 400


def test_needs_a_key(db):
    assert client_for().get(URL).status_code == 401
    assert client_for().post(URL, {"amount": "1"}, format="json").status_code == 401
