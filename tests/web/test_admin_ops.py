"""Operators in Django admin: approve deposit requests (once), follow a
participant's ledger from its admin page, and run the reconciliation."""

import re
from decimal import Decimal
from html import unescape

import pytest

from exchange.reconcile import CHECKS
from settlement.models import Account, DepositRequest
from tests.exchange.conftest import place
from tests.web.conftest import html

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/settlement/depositrequest/"


def approve(client, *requests):
    return client.post(
        CHANGELIST,
        {"action": "approve", "_selected_action": [r.pk for r in requests]},
        follow=True,
    )


def test_admin_approves_a_deposit_request_once(staff_client, buyer):
    request = DepositRequest.objects.create(participant=buyer, amount=Decimal("250"))
    account = Account.objects.get(participant=buyer, kind="available")
    before = account.balance

    body = html(approve(staff_client, request))
    assert f"Deposit request #{request.pk} approved and credited." in body
    request.refresh_from_db()
    assert request.status == "approved"
    assert request.decided_by.username == "operator"

    body = html(approve(staff_client, request))
    assert f"Deposit request {request.pk} is approved." in body
    account.refresh_from_db()
    assert account.balance == before + 250


def test_admin_rejects_without_crediting(staff_client, buyer):
    request = DepositRequest.objects.create(participant=buyer, amount=Decimal("250"))
    before = Account.objects.get(participant=buyer, kind="available").balance
    staff_client.post(
        CHANGELIST, {"action": "reject", "_selected_action": [request.pk]}
    )
    request.refresh_from_db()
    assert request.status == "rejected"
    assert Account.objects.get(participant=buyer, kind="available").balance == before


def test_participant_admin_links_to_its_ledger(staff_client, buyer, instrument):
    place(buyer, instrument, "buy", 10, "12.00")
    body = html(staff_client.get(f"/admin/market/participant/{buyer.pk}/change/"))
    link = re.search(r'href="(/admin/settlement/posting/\?account__in=[^"]+)"', body)[1]
    postings = html(staff_client.get(link.replace("&amp;", "&")))
    ids = set(Account.objects.filter(participant=buyer).values_list("pk", flat=True))
    assert "120.1200" in postings  # the bid's hold
    assert f"account__in={','.join(str(i) for i in sorted(ids))}" in link


def test_reconcile_admin_view_runs_the_checks(staff_client, buyer, seller, instrument):
    place(seller, instrument, "sell", 100, "11.00")
    place(buyer, instrument, "buy", 40, "12.00")
    page = html(staff_client.get("/admin/reconcile/"))
    assert "Run reconciliation" in page
    assert "reconcile-report" not in page
    body = unescape(html(staff_client.post("/admin/reconcile/")))
    assert "All invariants hold." in body
    for name, _check in CHECKS:
        assert name in body
    assert "/admin/reconcile/" in html(staff_client.get("/admin/"))


def test_reconcile_admin_view_is_for_staff_only(client, buyer_client):
    assert client.get("/admin/reconcile/").status_code == 302
    response = buyer_client.post("/admin/reconcile/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
