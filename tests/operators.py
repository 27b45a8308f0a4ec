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
from tests.settlement.helpers import deposit, trade

GROUPS_MIGRATION = ("exchange", "0005_operator_groups")


def groups_migrate() -> None:
    """Run the migration that ships the operators' groups, on its own state's
    models (a transactional test's flush empties the groups; it is idempotent)."""
    module = importlib.import_module(
        f"{GROUPS_MIGRATION[0]}.migrations.{GROUPS_MIGRATION[1]}"
    )
    state = MigrationExecutor(connection).loader.project_state(GROUPS_MIGRATION)
    module.forwards(state.apps, None)


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
    client = Client()
    client.force_login(user)
    return client


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
