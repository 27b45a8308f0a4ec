"""Account, ledger and delivery over REST: balances match the ledger, postings page
newest first, and the report / confirm / dispute flow with its refusals."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from settlement.models import Account, Obligation
from tests.apiclient import client_for, error
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def instrument(db):
    return make_instrument()


@pytest.fixture
def traded(instrument):
    """A filled trade of 10 SCU-h, its delivery window opened an hour ago."""
    seller = make_seller("CITY-SH", "nvidia-a100-80gb-sxm")
    buyer = make_buyer("CITY-SH")
    place(seller, instrument, "sell", "10.0", "12.00")
    [trade] = place(buyer, instrument, "buy", "10.0", "12.00").fills
    now = timezone.now()
    Obligation.objects.filter(trade_id=trade.pk).update(
        delivery_start=now - timedelta(hours=1),
        delivery_end=now + timedelta(hours=23),
        report_deadline=now + timedelta(hours=25),
        confirm_deadline=now + timedelta(hours=49),
    )
    return trade, client_for(buyer), client_for(seller)


def test_account_balances_match_the_ledger(traded):
    trade, buyer_api, _seller_api = traded
    body = buyer_api.get("/api/v1/account/").json()
    accounts = dict(
        Account.objects.filter(participant=trade.buyer).values_list("kind", "balance")
    )
    assert Decimal(body["available"]) == accounts["available"]
    assert body["held"] == "0.0000"
    assert Decimal(body["in_escrow"]) == Decimal("120.0000") + trade.buyer_fee
    assert set(body) == {
        "currency",
        "available",
        "held",
        "bond",
        "withdrawal_pending",
        "in_escrow",
    }
    assert body["withdrawal_pending"] == "0.0000"


def test_seller_bond_is_reported(traded):
    _trade, _buyer_api, seller_api = traded
    body = seller_api.get("/api/v1/account/").json()
    assert body["bond"] == "12.0000"  # 10% of 10 x 12.00, attached to the trade
    assert body["in_escrow"] == "0.0000"


def test_ledger_pages_postings_newest_first(traded):
    _trade, buyer_api, _seller_api = traded
    page = buyer_api.get("/api/v1/account/ledger/", {"limit": 2}).json()
    assert len(page["results"]) == 2
    ids = [p["id"] for p in page["results"]]
    assert ids == sorted(ids, reverse=True)
    assert set(page["results"][0]) == {
        "id",
        "entry",
        "account",
        "amount",
        "kind",
        "reference",
        "created_at",
    }
    everything = []
    url = "/api/v1/account/ledger/?limit=2"
    while url:
        body = buyer_api.get(url).json()
        everything += body["results"]
        url = body["next"]
    kinds = {p["kind"] for p in everything}
    assert {"deposit", "hold", "fill"} <= kinds
    deposits = buyer_api.get("/api/v1/account/ledger/", {"account": "available"})
    assert all(p["account"] == "available" for p in deposits.json()["results"])


def test_deliveries_list_each_side(traded):
    trade, buyer_api, seller_api = traded
    [mine] = buyer_api.get("/api/v1/deliveries/").json()["results"]
    assert (mine["trade_id"], mine["role"], mine["status"]) == (
        trade.pk,
        "buyer",
        "pending",
    )
    assert seller_api.get("/api/v1/deliveries/").json()["results"][0]["role"] == (
        "seller"
    )
    assert (
        buyer_api.get("/api/v1/deliveries/", {"role": "seller"}).json()["results"] == []
    )
    stranger = client_for(make_buyer())
    assert stranger.get("/api/v1/deliveries/").json()["results"] == []


def test_report_then_confirm(traded):
    trade, buyer_api, seller_api = traded
    url = f"/api/v1/deliveries/{trade.pk}"
    early = buyer_api.post(f"{url}/confirm/")
    assert early.status_code == 409
    assert error(early)["code"] == "delivery_not_allowed"
    reported = seller_api.post(
        f"{url}/report/", {"delivered_quantity": "9.5"}, format="json"
    )
    assert reported.status_code == 200
    assert reported.json()["status"] == "reported"
    assert reported.json()["delivered_quantity"] == "9.5"
    confirmed = buyer_api.post(f"{url}/confirm/")
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "confirmed"
    again = seller_api.post(f"{url}/report/", {"delivered_quantity": "10.0"}, "json")
    assert again.status_code == 409


def test_dispute(traded):
    trade, buyer_api, _seller_api = traded
    response = buyer_api.post(
        f"/api/v1/deliveries/{trade.pk}/dispute/", {"reason": "GPUs idle"}, "json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["dispute_reason"]) == (
        "disputed",
        "GPUs idle",
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"delivered_quantity": 9.5}, 400),  # a JSON number
        ({"delivered_quantity": "9.55"}, 400),  # off the lot grid
        ({"delivered_quantity": "10.1"}, 400),  # more than traded
        ({"delivered_quantity": "-1.0"}, 400),
        ({}, 400),
    ],
)
def test_bad_reports_are_400(traded, body, status):
    trade, _buyer_api, seller_api = traded
    response = seller_api.post(f"/api/v1/deliveries/{trade.pk}/report/", body, "json")
    assert response.status_code == status
    assert error(response)["code"] == "validation_error"


def test_wrong_side_or_stranger_is_404(traded):
    trade, buyer_api, seller_api = traded
    url = f"/api/v1/deliveries/{trade.pk}"
    body = {"delivered_quantity": "1.0"}
    assert buyer_api.post(f"{url}/report/", body, "json").status_code == 404
    assert seller_api.post(f"{url}/confirm/").status_code == 404
    assert seller_api.post(f"{url}/dispute/", {}, "json").status_code == 404
    stranger = client_for(make_seller())
    assert stranger.post(f"{url}/report/", body, "json").status_code == 404
    assert buyer_api.post("/api/v1/deliveries/999999/confirm/").status_code == 404


def test_report_before_the_window_is_409(instrument):
    seller = make_seller("CITY-SH", "nvidia-a100-80gb-sxm")
    buyer = make_buyer("CITY-SH")
    place(seller, instrument, "sell", "1.0", "12.00")
    [trade] = place(buyer, instrument, "buy", "1.0", "12.00").fills
    response = client_for(seller).post(
        f"/api/v1/deliveries/{trade.pk}/report/", {"delivered_quantity": "1.0"}, "json"
    )
    assert response.status_code == 409
    assert "deadline" in error(response)["message"]


def test_deliveries_need_a_key():
    assert APIClient().get("/api/v1/deliveries/").status_code == 401
    assert APIClient().post("/api/v1/deliveries/1/confirm/").status_code == 401
