"""The audit trail: every operator action writes its row (who, what, the object,
before, after, the reason) in the action's own transaction; a refused action writes
none; the rows are read-only in admin, exportable as CSV by those allowed, and on
PostgreSQL the table itself refuses UPDATE and DELETE."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction

from market.apikeys import apikey_create
from market.audit import audit_record
from market.models import AuditEntry, Hub, Participant, Proposal
from settlement.models import DepositRequest
from tests.exchange.conftest import place
from tests.factories import ParticipantFactory, UserFactory
from tests.operators import client_of, messages_of, staff
from tests.web.conftest import chinese, html

pytestmark = pytest.mark.django_db


@pytest.fixture
def chief(db):
    """One login in every operators' group."""
    return staff("chief", "operator", "treasury", "supervisor")


def post_action(client, changelist, action, objects, **data):
    return client.post(
        f"/admin/{changelist}/",
        {"action": action, "_selected_action": [o.pk for o in objects], **data},
        follow=True,
    )


def only_row(action):
    [row] = AuditEntry.objects.filter(action=action)
    return row


def test_halt_and_resume_are_audited(chief, instrument):
    client = client_of(chief)
    post_action(client, "exchange/instrument", "halt", [instrument], reason="fault")
    post_action(client, "exchange/instrument", "resume", [instrument], reason="ok")
    halt, resume = only_row("instrument.halt"), only_row("instrument.resume")
    assert (halt.operator, halt.target_type, halt.target_id) == (
        chief,
        "exchange.instrument",
        str(instrument.pk),
    )
    assert (halt.before, halt.after, halt.reason) == (
        {"state": "open"},
        {"state": "halted"},
        "fault",
    )
    assert (resume.before, resume.after) == ({"state": "halted"}, {"state": "open"})


def test_order_cancel_is_audited(chief, instrument, buyer):
    order = place(buyer, instrument, "buy", "5.0", "12.00").order
    post_action(client_of(chief), "exchange/order", "cancel_orders", [order])
    row = only_row("order.cancel")
    assert row.before["status"] == "open"
    assert row.after == {"status": "cancelled", "remaining_quantity": "0.0"}


def test_resize_is_audited_and_a_refused_one_is_not(chief, instrument, seller):
    client = client_of(chief)
    place(seller, instrument, "sell", "100.0", "12.00")
    form = {"apply": "1", "reason": "provider asked"}
    cluster = seller.cluster
    response = post_action(
        client, "market/cluster", "resize", [cluster], count=1, **form
    )
    assert "cannot drop below" in messages_of(response)
    assert not AuditEntry.objects.filter(action="cluster.resize").exists()
    post_action(client, "market/cluster", "resize", [cluster], count=80, **form)
    row = only_row("cluster.resize")
    # The operator's count is a checked one: the verified count moves with it.
    assert (row.before, row.after, row.reason) == (
        {"count": 64, "verified_count": 64},
        {"count": 80, "verified_count": 80},
        "provider asked",
    )


def test_key_revocation_is_audited(chief, buyer):
    key = apikey_create(user=buyer.user, name="bot").api_key
    post_action(client_of(chief), "market/apikey", "revoke", [key], reason="leaked")
    row = only_row("apikey.revoke")
    assert (row.target_id, row.before, row.reason) == (
        str(key.pk),
        {"revoked_at": None},
        "leaked",
    )
    assert row.after["revoked_at"]


def test_participant_actions_are_audited(chief):
    client = client_of(chief)
    p = ParticipantFactory(is_seller=False)
    post_action(client, "market/participant", "grant_seller", [p], reason="KYC done")
    post_action(client, "market/participant", "flag_network_operator", [p])
    UserFactory(username="new-login")
    post_action(
        client,
        "market/participant",
        "reassign_login",
        [p],
        apply="1",
        username="new-login",
        reason="company renamed",
    )
    p.refresh_from_db()
    assert (p.is_seller, p.is_network_operator, p.user.username) == (
        True,
        True,
        "new-login",
    )
    assert only_row("participant.roles").after == {"is_buyer": True, "is_seller": True}
    assert only_row("participant.network_operator").after == {
        "is_network_operator": True
    }
    assert only_row("participant.login").after["username"] == "new-login"


def test_deposit_decisions_are_audited(chief):
    p = ParticipantFactory()
    yes = DepositRequest.objects.create(participant=p, amount=Decimal("100"))
    no = DepositRequest.objects.create(participant=p, amount=Decimal("200"))
    client = client_of(chief)
    post_action(client, "settlement/depositrequest", "approve", [yes], reason="wire")
    post_action(client, "settlement/depositrequest", "reject", [no], reason="bounced")
    approved = only_row("depositrequest.approve")
    assert approved.after == {
        "status": "approved",
        "amount": "100.0000",
        "available": "100.0000",
    }
    assert only_row("depositrequest.reject").reason == "bounced"


def test_proposals_are_audited_with_both_operators(chief):
    p = ParticipantFactory()
    client_of(chief).post(
        "/admin/settlement/journalentry/adjust/",
        {"participant": p.pk, "amount": "3", "reason": "goodwill"},
    )
    second = staff("second", "supervisor")
    proposal = Proposal.objects.get()
    client_of(second).post(
        "/admin/market/proposal/",
        {"action": "approve", "_selected_action": [proposal.pk]},
    )
    created, posted, approved = (
        only_row("proposal.create"),
        only_row("adjustment.post"),
        only_row("proposal.approve"),
    )
    assert (created.operator, posted.operator, approved.operator) == (
        chief,
        second,
        second,
    )
    assert {created.proposal_id, posted.proposal_id, approved.proposal_id} == {
        proposal.pk
    }
    assert posted.before == {"available": "0.0000"}
    assert posted.after["available"] == "3.0000"
    assert posted.reason == "goodwill"


def test_audit_trail_is_read_only_in_admin(chief):
    with transaction.atomic():
        row = audit_record(operator=chief, action="x.y", target_type="t", reason="r")
    client = client_of(chief)
    page = html(client.get(f"/admin/market/auditentry/{row.pk}/change/"))
    assert 'name="_save"' not in page
    assert (
        client.post(f"/admin/market/auditentry/{row.pk}/change/", {}).status_code == 403
    )
    assert (
        client.post(f"/admin/market/auditentry/{row.pk}/delete/", {}).status_code == 403
    )
    listing = html(client.get("/admin/market/auditentry/", {"action": "x.y"}))
    assert "x.y" in listing


def test_export_csv_is_audited_and_quotes_formulas(chief):
    with transaction.atomic():
        audit_record(operator=chief, action="a.b", target_type="t", reason="=1+1")
    response = client_of(chief).post(
        "/admin/market/auditentry/",
        {
            "action": "export_csv",
            "_selected_action": list(AuditEntry.objects.values_list("pk", flat=True)),
            "reason": "regulator asked",
        },
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "at", "operator", "action"]
    assert rows[1][3] == "a.b"
    assert rows[1][9] == "'=1+1"
    assert only_row("auditentry.export").after == {"rows": 1}


def test_audit_pages_in_chinese(chief):
    with transaction.atomic():
        audit_record(operator=chief, action="a.b", target_type="t", reason="r")
    client = chinese(client_of(chief))
    assert "审计日志" in html(client.get("/admin/market/auditentry/"))
    assert "复核提案" in html(client.get("/admin/market/proposal/"))
    page = html(client.get("/admin/settlement/journalentry/adjust/"))
    assert "手工调账" in page


@pytest.mark.django_db(transaction=True)
def test_audit_record_runs_only_inside_the_actions_transaction(catalogue):
    user = get_user_model().objects.create_user("solo")
    with pytest.raises(RuntimeError):
        audit_record(operator=user, action="a.b", target_type="t")

    def failing_action():
        with transaction.atomic():
            audit_record(operator=user, action="a.b", target_type="t")
            raise ValueError("the action fails: its row goes with it")

    with pytest.raises(ValueError, match="the action fails"):
        failing_action()
    assert not AuditEntry.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_audit_table_refuses_update_and_delete(catalogue):
    """Even raw SQL cannot rewrite or remove an audit row."""
    user = get_user_model().objects.create_user("auditor")
    with transaction.atomic():
        row = audit_record(operator=user, action="a.b", target_type="t", reason="r")
    for statement in (
        "UPDATE market_auditentry SET reason = 'hidden' WHERE id = %s",
        "DELETE FROM market_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [row.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=row.pk).update(reason="hidden")
    assert AuditEntry.objects.get(pk=row.pk).reason == "r"


def test_participant_change_form_cannot_move_money_or_rights(db):
    """Login, roles and the network-operator flag are read-only in the change form,
    even to an operator who may change participants."""
    p = ParticipantFactory(is_seller=False)
    login, other = p.user_id, UserFactory()
    client = client_of(staff("op", "operator"))
    response = client.post(
        f"/admin/market/participant/{p.pk}/change/",
        {
            "user": other.pk,
            "display_name": "Renamed",
            "home_region": p.home_region_id,
            "is_seller": "on",
            "is_network_operator": "on",
        },
    )
    assert response.status_code == 302
    p = Participant.objects.get(pk=p.pk)
    assert (p.display_name, p.user_id, p.is_seller, p.is_network_operator) == (
        "Renamed",
        login,
        False,
        False,
    )
    assert login != other.pk


def test_admin_form_edits_are_audited(chief):
    """A catalogue edit through its change form, a group's permissions and a new
    login each leave a row with the changed values, never a password."""
    hub = Hub.objects.first()
    response = client_of(chief).post(
        f"/admin/market/hub/{hub.pk}/change/",
        {"code": hub.code, "name_en": "Renamed hub", "name_zh": hub.name_zh},
    )
    assert response.status_code == 302
    row = only_row("market.hub.change")
    assert (row.before, row.after) == (
        {"name_en": hub.name_en},
        {"name_en": "Renamed hub"},
    )

    client = client_of(
        staff(
            "root-ish", perms=("auth.add_user", "auth.change_user", "auth.change_group")
        )
    )
    viewer = Group.objects.get(name="viewer")
    client.post(
        f"/admin/auth/group/{viewer.pk}/change/", {"name": "viewer", "permissions": []}
    )
    assert only_row("auth.group.change").after == {"permissions": []}
    client.post(
        "/admin/auth/user/add/",
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": "pw-Very-long-123",
            "password2": "pw-Very-long-123",
        },
    )
    row = only_row("auth.user.add")
    assert row.after == {"username": "newcomer"}
