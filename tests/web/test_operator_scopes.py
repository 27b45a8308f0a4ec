"""Regional and industry operators (DESIGN.md "Operators"): a regional operator,
bound to a hub, sees and acts on the participants homed there, the clusters,
orders and deliveries there and suspends only its own regions; outside its scope a
page is a 403 and an action does nothing. An industry operator sees its industry's
participants. A national operator (no scope) sees everything. Every admin of rows
that belong to someone declares how they reach a scope."""

import io

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.urls import reverse

from exchange.models import Order
from market.admin import OperatorAdmin
from market.models import Cluster, Hub, OperatorScope, Participant, RegionSuspension
from tests.exchange.conftest import make_buyer, make_seller, place
from tests.operators import client_of, staff

pytestmark = pytest.mark.django_db

# Rows of no one: every operator sees them whatever its scope.
PUBLIC = {
    "market.hub",
    "market.region",
    "market.networklink",
    "market.softwarestack",
    "market.chipmodel",
    "market.workloadprofile",
    "market.conversiontable",
    "market.conversionfactor",
    "market.benchmarkfactor",
    "market.surchargetable",
    "market.tariffperiod",
    "market.regionsuspension",
    "exchange.instrument",
    "exchange.listingplan",
}


def scoped(
    username: str, *, hub: str | None = None, industry: str = "", group="operator"
):
    user = staff(username, group)
    OperatorScope.objects.create(
        user=user,
        hub=Hub.objects.get(code=hub) if hub else None,
        industry=industry,
    )
    return user


@pytest.fixture
def world(instrument):
    """A seller homed and selling in Gui'an (hub guizhou), one in Wuhu (Yangtze
    River Delta), each with a resting sell."""
    guian = make_seller("CLU-GUIAN", industry="I")
    wuhu = make_seller("CLU-WUHU", "nvidia-a100-80gb-sxm", industry="J")
    place(guian, instrument, "sell", "5.0", "11.00")
    place(wuhu, instrument, "sell", "5.0", "12.00")
    return guian, wuhu


def changelist_ids(client, model: str) -> set[int]:
    response = client.get(f"/admin/{model}/")
    assert response.status_code == 200
    return set(response.context["cl"].result_list.values_list("pk", flat=True))


def test_every_admin_of_someones_rows_declares_a_scope():
    missing = [
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, OperatorAdmin)
        and model_admin.scope is None
        and model._meta.label_lower not in PUBLIC
    ]
    assert not missing, f"admins without a scope: {missing}"


def test_a_regional_operator_sees_only_its_hub(world):
    guian, _wuhu = world
    client = client_of(scoped("op-guizhou", hub="guizhou"))
    assert changelist_ids(client, "market/participant") == {guian.pk}
    assert changelist_ids(client, "market/cluster") == {guian.cluster.pk}
    assert changelist_ids(client, "exchange/order") == set(
        Order.objects.filter(participant=guian).values_list("pk", flat=True)
    )
    assert changelist_ids(client, "settlement/account") == set(
        guian.accounts.values_list("pk", flat=True)
    )
    # The catalogue is everyone's.
    assert len(changelist_ids(client, "market/region")) == 15


def test_a_page_outside_the_scope_is_403(world):
    guian, wuhu = world
    client = client_of(scoped("op-guizhou", hub="guizhou"))
    url = reverse("admin:market_participant_change", args=[wuhu.pk])
    assert client.get(url).status_code == 403
    url = reverse("admin:market_cluster_change", args=[wuhu.cluster.pk])
    assert client.get(url).status_code == 403
    own = reverse("admin:market_participant_change", args=[guian.pk])
    assert client.get(own).status_code == 200
    missing = reverse("admin:market_participant_change", args=[10**9])
    assert client.get(missing).status_code == 302  # does not exist at all


def test_an_action_outside_the_scope_does_nothing(world):
    guian, wuhu = world
    client = client_of(scoped("op-guizhou", hub="guizhou"))
    theirs = Order.objects.get(participant=wuhu)
    ours = Order.objects.get(participant=guian)
    client.post(
        "/admin/exchange/order/",
        {"action": "cancel_orders", "_selected_action": [theirs.pk, ours.pk]},
    )
    theirs.refresh_from_db(), ours.refresh_from_db()
    assert (theirs.status, ours.status) == ("open", "cancelled")


def test_a_regional_operator_suspends_only_its_own_regions(world):
    user = scoped("op-guizhou", hub="guizhou")
    client = client_of(user)
    for code in ("CLU-WUHU", "CLU-GUIAN"):
        client.post(
            "/admin/market/region/",
            {
                "action": "suspend",
                "_selected_action": [
                    Cluster.objects.filter(region__code=code).first().region_id
                ],
                "apply": "1",
                "reason": "drill",
            },
        )
    assert set(RegionSuspension.objects.values_list("region__code", flat=True)) == {
        "CLU-GUIAN"
    }
    with pytest.raises(CommandError, match="outside your scope"):
        call_command("suspend_region", "CLU-WUHU", reason="x", operator=user.username)
    call_command(
        "resume_region", "CLU-GUIAN", operator=user.username, stdout=io.StringIO()
    )


def test_an_industry_operator_sees_its_industrys_participants(world):
    guian, wuhu = world
    make_buyer("CITY-SH", industry="J")
    client = client_of(scoped("op-finance", industry="J"))
    assert changelist_ids(client, "market/participant") == set(
        Participant.objects.filter(industry="J").values_list("pk", flat=True)
    )
    assert changelist_ids(client, "market/cluster") == {wuhu.cluster.pk}
    url = reverse("admin:market_participant_change", args=[guian.pk])
    assert client.get(url).status_code == 403


def test_a_national_operator_sees_everything(world):
    client = client_of(staff("op-national", "operator"))
    assert changelist_ids(client, "market/participant") == set(
        Participant.objects.values_list("pk", flat=True)
    )


def test_a_regional_operators_monitoring_shows_its_hub(world):
    client = client_of(scoped("op-guizhou", hub="guizhou"))
    response = client.get(reverse("admin-monitoring"))
    assert response.status_code == 200
    view = response.context["view"]
    assert {row.subject.code for row in view.regions} == {"CLU-GUIAN"}
    assert [row.subject.code for row in view.hubs] == ["guizhou"]


def test_a_scoped_operator_cannot_see_or_set_scopes(world):
    """A supervisor holds the scopes' permissions: nationally it edits them, bound
    to a hub it gets a 403, its own scope included."""
    url = "/admin/market/operatorscope/"
    assert client_of(staff("sup-national", "supervisor")).get(url).status_code == 200
    regional = client_of(scoped("sup-guizhou", hub="guizhou", group="supervisor"))
    assert regional.get(url).status_code == 403
    assert regional.get(f"{url}add/").status_code == 403
