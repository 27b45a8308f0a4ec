"""Operators verify clusters (`manage.py verify_cluster`, the admin action): only a
verified cluster sells; what it declares waits for an operator's check, while sells
carry what was verified; every verification writes an audit row naming the
operator."""

import io
from decimal import ROUND_FLOOR, Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from exchange.exceptions import ClusterNotVerified, InsufficientCapacity
from exchange.services.capacity import factor_for
from exchange.services.clusters import cluster_declare
from market.models import AuditEntry, Cluster
from tests.exchange.conftest import make_instrument, make_seller, place
from tests.operators import client_of, messages_of, staff

pytestmark = pytest.mark.django_db


def verify(*args) -> str:
    out = io.StringIO()
    call_command("verify_cluster", *args, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def operator(db):
    return staff("ops", "operator")


@pytest.fixture
def instrument(db):
    return make_instrument()


def test_command_when_given_ids_verifies_with_the_attributes_and_audits(operator):
    seller = make_seller(verified=False, confidential=True, certifications="MLPS3")
    cluster = seller.cluster
    printed = verify(
        str(cluster.pk),
        "--confidential",
        "--certifications",
        "ISO27001,MLPS3",
        "--operator",
        "ops",
    )
    assert printed == str(cluster.pk)
    cluster.refresh_from_db()
    assert cluster.verified
    assert cluster.verified_confidential
    assert cluster.verified_certification_codes == ["ISO27001", "MLPS3"]
    [row] = AuditEntry.objects.filter(action="cluster.verify")
    assert (row.operator, row.target_id) == (operator, str(cluster.pk))
    assert row.before["verified_at"] is None
    assert row.after["verified_certifications"] == "ISO27001,MLPS3"


def test_command_when_flags_are_left_out_verifies_no_tee_claim(operator):
    """What the operator does not state as checked is not verified: a TEE claim
    without --confidential stays unverified (the declaration is kept)."""
    seller = make_seller(verified=False, confidential=True)
    verify("--participant", seller.user.username, "--operator", "ops")
    seller.cluster.refresh_from_db()
    assert seller.cluster.verified
    assert seller.cluster.confidential
    assert not seller.cluster.verified_confidential


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--certifications", "ISO9001", "--operator", "ops"], "Unknown cert"),
        (["--operator", "nobody"], "not an active staff login"),
        ([], "--operator is required"),
    ],
)
def test_command_when_refused_changes_nothing(operator, args, message):
    seller = make_seller(verified=False)
    with pytest.raises(CommandError, match=message):
        verify(str(seller.cluster.pk), *args)
    seller.cluster.refresh_from_db()
    assert not seller.cluster.verified
    assert not AuditEntry.objects.filter(action="cluster.verify").exists()


def test_command_when_the_operator_may_not_verify_is_refused(db):
    staff("treasurer", "treasury")
    seller = make_seller(verified=False)
    with pytest.raises(CommandError, match="may not verify"):
        verify(str(seller.cluster.pk), "--operator", "treasurer")


@override_settings(YIWANG_DEMO=True)
def test_command_in_the_demo_names_the_demos_operator(db):
    admin = staff("admin", "operator")
    seller = make_seller(verified=False)
    verify(str(seller.cluster.pk))
    assert AuditEntry.objects.get(action="cluster.verify").operator == admin


def test_unverified_cluster_when_it_sells_is_refused_until_verified(
    operator, instrument
):
    seller = make_seller(verified=False)
    with pytest.raises(ClusterNotVerified, match="awaiting an operator"):
        place(seller, instrument, "sell", "1.0", "12.00")
    verify(str(seller.cluster.pk), "--operator", "ops")
    placed = place(seller, instrument, "sell", "1.0", "12.00")
    assert placed.order.status == "open"


def test_changed_declaration_when_unchecked_sells_with_what_was_verified(
    operator, instrument
):
    """A provider declares a TEE after verification: the cluster keeps selling,
    without it, until an operator checks again."""
    seller = make_seller()
    Cluster.objects.filter(pk=seller.cluster.pk).update(confidential=True)
    cluster = Cluster.objects.get(pk=seller.cluster.pk)
    assert not cluster.verified_confidential
    first = place(seller, instrument, "sell", "1.0", "12.00").order
    assert first.confidential is False
    verify(str(cluster.pk), "--confidential", "--operator", "ops")
    second = place(seller, instrument, "sell", "1.0", "12.10").order
    assert second.confidential is True
    first.refresh_from_db()
    assert first.confidential is False  # a resting sell keeps its place's


def test_raised_count_when_unchecked_sells_only_the_verified_chips(
    operator, instrument
):
    """A provider raises its count after verification: its sells commit no more
    than the checked count until an operator checks again; the API shows both."""
    seller = make_seller(count=1)
    cluster = seller.cluster
    per_chip = factor_for(cluster=cluster, instrument=instrument) * instrument.hours
    quantity = str((per_chip * Decimal("1.5")).quantize(Decimal("0.1"), ROUND_FLOOR))
    cluster_declare(
        participant=seller,
        cluster_id=cluster.pk,
        count=2,
        confidential=False,
        certifications=[],
    )
    cluster.refresh_from_db()
    assert (cluster.count, cluster.sellable_count, cluster.awaiting_check) == (
        2,
        1,
        True,
    )
    with pytest.raises(InsufficientCapacity):
        place(seller, instrument, "sell", quantity, "12.00")
    verify(str(cluster.pk), "--operator", "ops")
    assert place(seller, instrument, "sell", quantity, "12.00").order.status == "open"
    cluster.refresh_from_db()
    assert (cluster.verified_count, cluster.awaiting_check) == (2, False)


def test_admin_action_when_run_verifies_as_declared(operator):
    seller = make_seller(verified=False, confidential=True, certifications="SOC2")
    response = client_of(operator).post(
        "/admin/market/cluster/",
        {
            "action": "verify",
            "_selected_action": [seller.cluster.pk],
            "reason": "site visit",
        },
        follow=True,
    )
    assert "verified" in messages_of(response)
    cluster = Cluster.objects.get(pk=seller.cluster.pk)
    assert (cluster.verified_confidential, cluster.verified_certifications) == (
        True,
        "SOC2",
    )
    assert AuditEntry.objects.get(action="cluster.verify").reason == "site visit"
