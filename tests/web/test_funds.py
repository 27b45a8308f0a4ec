"""Money pages: balances (available, held, bond, in escrow), the statement with
pagination and CSV export, deposit requests (approved once, by an operator or by
the demo at once), and delivery: report, confirm, dispute."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from settlement.deposits import DepositNotPending, deposit_request_approve
from settlement.models import Account, DepositRequest, Obligation, Posting
from tests.exchange.conftest import fund, make_buyer, place
from tests.web.conftest import chinese, html, logged_in, text

pytestmark = pytest.mark.django_db


def tile(body: str, kind: str) -> str:
    found = re.search(rf'data-balance="{kind}">(.*?)</p>', body, re.S)
    return text(found[1])


def available(participant) -> Decimal:
    return Account.objects.get(participant=participant, kind="available").balance


def test_balances_show_the_hold_turning_into_escrow(
    buyer_client, buyer, seller, instrument
):
    """A resting bid's hold shows as held; once it trades, what it paid is in
    escrow and nothing is held."""
    place(buyer, instrument, "buy", 100, "12.00")
    body = html(buyer_client.get("/funds/"))
    assert "1,201.20 CNY" in tile(body, "held")  # 100 x 12.00 + 10 bps
    assert "0.00 CNY" in tile(body, "in_escrow")

    place(seller, instrument, "sell", 100, "11.00")
    body = html(buyer_client.get("/funds/"))
    ob = Obligation.objects.get()
    assert "0.00 CNY" in tile(body, "held")
    assert f"{ob.escrow_amount + ob.buyer_fee_escrowed:,.2f} CNY" in tile(
        body, "in_escrow"
    )


def test_statement_is_paginated_newest_first(buyer_client, buyer):
    for _ in range(55):
        fund(buyer, "1.5")
    body = html(buyer_client.get("/funds/ledger/"))
    assert "56 postings" in body  # the fixture's deposit and 55 more
    assert "Page 1 of 2" in body
    assert body.count("<tr data-posting=") == 50
    newest = Posting.objects.filter(account__participant=buyer).latest("pk")
    assert re.search(r'data-posting="(\d+)"', body)[1] == str(newest.pk)
    page2 = html(buyer_client.get("/funds/ledger/?page=2"))
    assert page2.count("<tr data-posting=") == 6


def test_statement_filters_by_account(buyer_client, buyer, instrument):
    place(buyer, instrument, "buy", 10, "12.00")
    body = html(buyer_client.get("/funds/ledger/?account=held"))
    assert "1 posting" in body
    assert "+120.1200" in body


def test_statement_csv_export(buyer_client, buyer, instrument):
    place(buyer, instrument, "buy", 10, "12.00")
    response = buyer_client.get("/funds/ledger.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "posting_id",
        "created_at",
        "entry_id",
        "entry_kind",
        "reference",
        "account",
        "amount",
        "memo",
    ]
    assert len(rows) == 1 + Posting.objects.filter(account__participant=buyer).count()
    assert [rows[1][3], rows[1][5], rows[1][6]] == ["hold", "held", "120.1200"]
    held_only = buyer_client.get("/funds/ledger.csv?account=held")
    assert len(b"".join(held_only.streaming_content).splitlines()) == 2


def test_statement_and_csv_show_only_own_postings(buyer_client, buyer, other):
    fund(other, "77.7")
    assert "77.7000" not in html(buyer_client.get("/funds/ledger/"))
    assert b"77.7000" not in b"".join(
        buyer_client.get("/funds/ledger.csv").streaming_content
    )


# --- deposits ----------------------------------------------------------------------


def test_deposit_request_waits_for_an_operator(buyer_client, buyer, settings):
    settings.YIWANG_DEMO = False
    before = available(buyer)
    response = buyer_client.post(
        "/funds/deposit/", {"amount": "2500.50", "note": "wire 42"}, follow=True
    )
    body = html(response)
    assert "Deposit requested. An operator will approve it." in body
    assert "Demo mode" not in body
    request = DepositRequest.objects.get()
    assert (request.amount, request.status, request.note) == (
        Decimal("2500.50"),
        "requested",
        "wire 42",
    )
    assert available(buyer) == before


def test_deposit_in_the_demo_is_approved_at_once(buyer_client, buyer, settings):
    settings.YIWANG_DEMO = True
    before = available(buyer)
    assert "Demo mode: deposit requests are approved at once" in html(
        buyer_client.get("/funds/deposit/")
    )
    response = buyer_client.post("/funds/deposit/", {"amount": "100"}, follow=True)
    assert "Deposit approved and credited (demo)." in html(response)
    request = DepositRequest.objects.get()
    assert request.status == "approved"
    assert request.decided_by is None
    assert available(buyer) == before + 100


def test_deposit_approval_credits_once(buyer, staff_client):
    """Approving twice credits once: the second is refused, and the ledger entry's
    key `deposit-request:<id>` could post only once anyway."""
    request = DepositRequest.objects.create(participant=buyer, amount=Decimal("300"))
    before = available(buyer)
    with transaction.atomic(durable=True):
        deposit_request_approve(request_id=request.pk, operator=None)
    with pytest.raises(DepositNotPending), transaction.atomic(durable=True):
        deposit_request_approve(request_id=request.pk, operator=None)
    assert available(buyer) == before + 300
    assert (
        Posting.objects.filter(
            entry__idempotency_key=f"deposit-request:{request.pk}"
        ).count()
        == 2
    )  # external and available


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "This field is required."),
        ("-5", "Ensure this value is greater than or equal to 0.0001."),
        ("1.23456", "Ensure that there are no more than 4 decimal places."),
        ("一百", "Enter a number."),
    ],
)
def test_deposit_form_errors_keep_input(buyer_client, amount, message):
    body = html(buyer_client.post("/funds/deposit/", {"amount": amount, "note": "n"}))
    box = re.search(r'id="err-amount"[^>]*>(.*?)</div>', body, re.S)[1]
    assert message in text(box)
    if amount:
        assert f'value="{amount}"' in body
    assert 'value="n"' in body
    assert not DepositRequest.objects.exists()


# --- delivery ----------------------------------------------------------------------


@pytest.fixture
def trade(buyer, seller, instrument):
    place(seller, instrument, "sell", 100, "11.00")
    place(buyer, instrument, "buy", 100, "12.00")
    return Obligation.objects.get()


def open_window(obligation: Obligation) -> None:
    """Move settlement's record of the trade into its delivery window."""
    now = timezone.now()
    Obligation.objects.filter(pk=obligation.pk).update(
        delivery_start=now - timedelta(hours=1),
        delivery_end=now + timedelta(hours=1),
        report_deadline=now + timedelta(hours=3),
        confirm_deadline=now + timedelta(hours=27),
    )


def test_deliveries_list_the_step_of_each_side(buyer_client, seller_client, trade):
    seller_page = html(seller_client.get("/deliveries/"))
    assert f"/deliveries/{trade.trade_id}/report/" in seller_page
    buyer_page = html(buyer_client.get("/deliveries/"))
    assert f"/deliveries/{trade.trade_id}/dispute/" in buyer_page
    assert f"/deliveries/{trade.trade_id}/report/" not in buyer_page


def test_report_before_the_window_is_refused_in_plain_words(seller_client, trade):
    url = f"/deliveries/{trade.trade_id}/report/"
    data = {f"t{trade.trade_id}-delivered_quantity": "50"}
    body = html(seller_client.post(url, data))
    assert "The delivery window opens at" in text(body)
    assert 'value="50"' in body
    zh = html(chinese(seller_client).post(url, data))
    assert "交割时段于" in text(zh)


def test_report_then_confirm(buyer_client, seller_client, trade):
    open_window(trade)
    prefix = f"t{trade.trade_id}"
    body = html(
        seller_client.post(
            f"/deliveries/{trade.trade_id}/report/",
            {f"{prefix}-delivered_quantity": "150"},
        )
    )
    assert "At most the traded quantity, 100.0 SCU-h." in text(body)
    assert 'value="150"' in body

    response = seller_client.post(
        f"/deliveries/{trade.trade_id}/report/",
        {f"{prefix}-delivered_quantity": "95.5"},
        follow=True,
    )
    assert f"Delivery of trade {trade.trade_id} reported." in html(response)
    trade.refresh_from_db()
    assert (trade.status, trade.delivered_quantity) == ("reported", Decimal("95.5"))

    response = buyer_client.post(f"/deliveries/{trade.trade_id}/confirm/", follow=True)
    assert f"Delivery of trade {trade.trade_id} confirmed." in html(response)
    trade.refresh_from_db()
    assert trade.status == "confirmed"


def test_confirm_without_a_report_is_refused(buyer_client, trade):
    open_window(trade)
    body = html(buyer_client.post(f"/deliveries/{trade.trade_id}/confirm/"))
    assert "The provider has not reported a delivery yet" in text(body)


def test_dispute_needs_a_reason_and_is_recorded(buyer_client, trade):
    open_window(trade)
    prefix = f"t{trade.trade_id}"
    url = f"/deliveries/{trade.trade_id}/dispute/"
    body = html(buyer_client.post(url, {f"{prefix}-reason": ""}))
    assert "This field is required." in body
    response = buyer_client.post(url, {f"{prefix}-reason": "GPUs idle"}, follow=True)
    assert "disputed: an operator will set what was delivered." in html(response)
    trade.refresh_from_db()
    assert (trade.status, trade.dispute_reason) == ("disputed", "GPUs idle")


def test_others_trades_are_404(trade, other, buyer_client, seller_client):
    """The buyer cannot report, the seller cannot confirm, a stranger can do
    nothing, and none of them sees it listed."""
    open_window(trade)
    stranger = logged_in(other)
    tid = trade.trade_id
    assert buyer_client.post(f"/deliveries/{tid}/report/", {}).status_code == 404
    assert seller_client.post(f"/deliveries/{tid}/confirm/").status_code == 404
    assert seller_client.post(f"/deliveries/{tid}/dispute/", {}).status_code == 404
    assert stranger.post(f"/deliveries/{tid}/confirm/").status_code == 404
    assert f'data-trade="{tid}"' not in html(stranger.get("/deliveries/"))


def test_poor_buyer_sees_zero_escrow(db):
    poor = make_buyer(money=0)
    body = html(logged_in(poor).get("/funds/"))
    assert "0.00 CNY" in tile(body, "available")
