"""Operators for admin tests: staff logins in the shipped groups, a disputed trade,
the reconciliation as an assertion, and reading admin messages."""

import importlib
import io
import re
from datetime import timedelta
from html import unescape

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from settlement import services
from tests.otp import login_verified
from tests.settlement.helpers import deposit, trade

GROUPS_MIGRATION = ("exchange", "0005_operator_groups")
# Later migrations that grant the groups more (each with an idempotent `grant`).
GROUP_GRANTS = [
    ("exchange", "0009_notification_permissions"),
    ("settlement", "0008_withdrawal_permissions"),
    ("exchange", "0010_region_suspension_permissions"),
    ("exchange", "0012_operator_scope_permissions"),
]


def groups_migrate() -> None:
    """Run the migration that ships the operators' groups, and those that grant
    them more, on their own states' models (a transactional test's flush empties
    the groups; they are idempotent)."""
    loader = MigrationExecutor(connection).loader
    for node, run in [(GROUPS_MIGRATION, "forwards")] + [
        (grant, "grant") for grant in GROUP_GRANTS
    ]:
        module = importlib.import_module(f"{node[0]}.migrations.{node[1]}")
        getattr(module, run)(loader.project_state(node).apps, None)


def staff(username: str, *groups: str, perms: tuple[str, ...] = ()):
    """An active staff login (not a superuser) in `groups`, with `perms` too."""
    if groups and not Group.objects.filter(name="viewer").exists():
        groups_migrate()
    user = get_user_model().objects.create_user(
        username, password="pw-staff-123", is_staff=True
    )
    user.groups.add(*Group.objects.filter(name__in=groups))
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    assert Group.objects.filter(name__in=groups).count() == len(groups)
    return get_user_model().objects.get(pk=user.pk)  # no cached permissions


def client_of(user) -> Client:
    return login_verified(Client(), user)  # past the second factor, as admin needs


def messages_of(response) -> str:
    """The admin messages a page shows, as text."""
    body = response.content.decode()
    found = re.findall(r'<li class="(?:success|error|warning|info)">(.*?)</li>', body)
    return unescape(" | ".join(found))


def assert_reconciled() -> None:
    """`manage.py reconcile` finds every invariant holding."""
    out = io.StringIO()
    try:
        call_command("reconcile", stdout=out)
    except SystemExit as exc:  # the command exits 1 with its report
        raise AssertionError(out.getvalue()) from exc
    assert "All invariants hold." in out.getvalue(), out.getvalue()


def disputed_trade(buyer, seller, trade_id: int, quantity="10.0", price="10.00"):
    """A filled trade whose delivery the buyer disputes (its window has begun)."""
    deposit(buyer, 1000)
    deposit(seller, 100)
    obligation = trade(
        buyer=buyer,
        seller=seller,
        trade_id=trade_id,
        quantity=quantity,
        price=price,
        start=timezone.now() - timedelta(hours=1),
    )
    with transaction.atomic():
        services.delivery_dispute(
            participant=buyer, trade_id=trade_id, now=timezone.now()
        )
    obligation.refresh_from_db()
    return obligation


def approve(client: Client, *proposals, action: str = "approve", reason: str = ""):
    return client.post(
        "/admin/market/proposal/",
        {
            "action": action,
            "_selected_action": [p.pk for p in proposals],
            "reason": reason,
        },
        follow=True,
    )
