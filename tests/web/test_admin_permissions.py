"""Every custom admin action and custom admin view of every registered ModelAdmin
needs its own permission: a staff login without it (a `viewer`, or one holding every
add/change/delete/view permission but no custom one) is not offered the action,
gets nothing done when it posts it anyway, and gets 403 from the view. The cases
are discovered from `admin.site._registry`, so a new action or view without a
permission fails here."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from exchange.models import Order
from market.apikeys import apikey_create
from market.models import AuditEntry, Participant, Proposal
from settlement.models import DepositRequest, JournalEntry
from settlement.operators import adjustment_propose
from settlement.withdrawals import withdrawal_request_create
from tests.exchange.conftest import place
from tests.factories import ParticipantFactory
from tests.operators import client_of, disputed_trade, groups_migrate, staff

pytestmark = pytest.mark.django_db
DEFAULT_VERBS = ("add", "change", "delete", "view")
APPS = ("market", "exchange", "settlement")
SITE_WIDE = {"delete_selected"}  # Django's own, gated by the delete permission


def custom_actions() -> list[tuple[type, str]]:
    cases = []
    for model, model_admin in admin.site._registry.items():
        for action in model_admin._get_base_actions():
            if action.name not in SITE_WIDE:
                cases.append((model, action.name))
    return cases


def custom_views() -> list[tuple[type, str]]:
    cases = []
    for model, model_admin in admin.site._registry.items():
        standard = {p.name for p in admin.ModelAdmin.get_urls(model_admin)}
        cases += [
            (model, p.name) for p in model_admin.get_urls() if p.name not in standard
        ]
    return cases


def view_url(model, name: str) -> str:
    """The view's address; a parameter (auth's password page) gets a row's key."""
    pattern = next(p for p in admin.site._registry[model].get_urls() if p.name == name)
    first = model.objects.order_by("pk").first()
    kwargs = {key: str(first.pk) for key in pattern.pattern.converters}
    return reverse(f"admin:{name}", kwargs=kwargs or None)


ACTIONS = custom_actions()
VIEWS = custom_views()


def _id(case) -> str:
    model, name = case
    return f"{model._meta.label_lower}:{name}"


def test_discovery_finds_the_operator_actions_and_views():
    """The walk is not vacuous: it sees the actions and views this issue guards."""
    names = {name for _model, name in ACTIONS}
    assert {"halt", "cancel_orders", "resize", "resolve_dispute", "approve"} <= names
    assert {"revoke", "export_csv", "flag_network_operator", "reassign_login"} <= names
    assert {name for _m, name in VIEWS} >= {
        "settlement_journalentry_adjust",
        "market_conversiontable_publish",
    }


@pytest.fixture
def everything_but_custom(db):
    """Staff holding every default permission of the project's models, and no
    custom one."""
    user = staff("all-defaults")
    defaults = [
        p
        for p in Permission.objects.filter(content_type__app_label__in=APPS)
        if p.codename.split("_", 1)[0] in DEFAULT_VERBS
    ]
    user.user_permissions.add(*defaults)
    return type(user).objects.get(pk=user.pk)


@pytest.fixture(params=["viewer", "all-defaults"])
def unprivileged(request, db):
    if request.param == "viewer":
        return staff("viewer-1", "viewer")
    return request.getfixturevalue("everything_but_custom")


@pytest.fixture
def world(db, instrument, buyer, seller):
    """At least one row of every model an operator action acts on."""
    place(seller, instrument, "sell", 10, "11.00")
    place(buyer, instrument, "buy", 5, "10.00")
    disputed_trade(ParticipantFactory(), ParticipantFactory(), trade_id=901)
    DepositRequest.objects.create(participant=buyer, amount=Decimal("10"))
    with transaction.atomic():
        withdrawal_request_create(participant=buyer, amount=Decimal("10"))
    apikey_create(user=buyer.user, name="bot")
    with transaction.atomic():
        adjustment_propose(
            participant_id=buyer.pk,
            amount=Decimal("1"),
            operator=staff("op-1", "treasury"),
            reason="test",
            now=timezone.now(),
        )
    return instrument


def fingerprint(model) -> tuple:
    """What an action could change: the model's rows and every operator record."""
    return (
        list(model.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
        Proposal.objects.count(),
        JournalEntry.objects.count(),
        list(Order.objects.order_by("pk").values_list("status", flat=True)),
        list(Participant.objects.order_by("pk").values_list("user_id", "is_seller")),
    )


@pytest.mark.parametrize("case", ACTIONS, ids=_id)
def test_action_declares_a_custom_permission(case):
    """Each action names at least one permission, none of them a default verb."""
    model, name = case
    func = admin.site._registry[model].get_action(name).func
    declared = getattr(func, "allowed_permissions", ())
    assert declared, f"{name} declares no permission"
    assert not set(declared) & set(DEFAULT_VERBS), declared


@pytest.mark.parametrize("case", ACTIONS, ids=_id)
def test_action_refused_without_its_permission(case, world, unprivileged):
    """Not offered, and posting it anyway changes nothing."""
    model, name = case
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = unprivileged
    assert name not in model_admin.get_actions(request)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    client = client_of(unprivileged)  # logging in sets last_login: before the count
    before = fingerprint(model)
    selected = list(model.objects.values_list("pk", flat=True)[:20])
    assert selected, f"no {model.__name__} to select"
    response = client.post(
        url,
        {
            "action": name,
            "_selected_action": selected,
            "apply": "1",
            "reason": "try",
            "count": "1",
            "delivered_quantity": "1.0",
            "username": "nobody",
        },
    )
    assert response.status_code in (200, 302, 403)
    assert fingerprint(model) == before


@pytest.mark.parametrize("case", ACTIONS, ids=_id)
def test_action_offered_with_its_permission(case, db):
    """The control: a login holding just the declared permissions is offered it."""
    model, name = case
    model_admin = admin.site._registry[model]
    func = model_admin.get_action(name).func
    granted = tuple(
        getattr(model_admin, f"has_{perm}_permission").permission
        for perm in func.allowed_permissions
    )
    request = RequestFactory().get("/")
    request.user = staff("holder", perms=granted)
    assert name in model_admin.get_actions(request)


@pytest.mark.parametrize("case", VIEWS, ids=_id)
def test_view_refused_without_its_permission(case, unprivileged):
    """GET and POST answer 403 and change nothing."""
    model, name = case
    client = client_of(unprivileged)
    url = view_url(model, name)
    proposals = Proposal.objects.count()
    assert client.get(url).status_code == 403
    response = client.post(url, {"reason": "try", "amount": "1000000"})
    assert response.status_code == 403
    assert Proposal.objects.count() == proposals


@pytest.mark.parametrize("case", VIEWS, ids=_id)
def test_view_open_to_a_superuser(case, admin_client):
    """The control: the same address answers someone allowed."""
    model, name = case
    assert admin_client.get(view_url(model, name)).status_code == 200


def test_groups_hold_what_design_says(db):
    """The shipped groups (DESIGN.md, "Operators"): a viewer only views; the
    operator halts, cancels, resizes and resolves; treasury decides deposits,
    withdrawals and adjustments; only the supervisor approves proposals and
    publishes tables."""
    groups_migrate()

    def custom(name):
        perms = Group.objects.get(name=name).permissions.select_related("content_type")
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in perms
            if p.codename.split("_", 1)[0] != "view"
        }

    views = Group.objects.get(name="viewer").permissions
    assert (
        views.count()
        == Permission.objects.filter(
            content_type__app_label__in=APPS, codename__startswith="view_"
        ).count()
    )
    assert custom("viewer") == set()
    assert {
        "exchange.halt_instrument",
        "exchange.cancel_order",
        "market.resize_cluster",
        "settlement.resolve_dispute",
    } <= custom("operator")
    assert custom("treasury") == {
        "settlement.approve_depositrequest",
        "settlement.post_adjustment",
        "settlement.pay_withdrawalrequest",
        "settlement.reject_withdrawalrequest",
    }
    assert {"market.approve_proposal", "market.publish_conversiontable"} <= custom(
        "supervisor"
    )
    holders = [
        n for n in ("operator", "treasury") if "market.approve_proposal" in custom(n)
    ]
    assert holders == []


@pytest.mark.parametrize("url", ["/admin/reconcile/", "/admin/monitoring/"])
def test_operator_pages_need_a_view_permission(url, db):
    """The admin pages outside any ModelAdmin: staff alone gets 403; a viewer
    sees them (they only read)."""
    bare = client_of(staff("bare"))
    assert bare.get(url).status_code == 403
    assert bare.post(url).status_code in (403, 405)
    assert client_of(staff("viewer-3", "viewer")).get(url).status_code == 200
