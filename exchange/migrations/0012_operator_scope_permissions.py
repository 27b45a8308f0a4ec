"""Operator scopes (market 0012): supervisors set who works at which level (a hub
or an industry) and reset a staff login's lost authenticator; every operators'
group sees the scopes (the groups' migration, 0005, explains why group permissions
are granted here)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ("viewer", "operator", "treasury", "supervisor")


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    market = Permission.objects.filter(content_type__app_label="market")
    view = market.filter(codename="view_operatorscope")
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(*view)
    edit = market.filter(
        codename__in=[
            *(f"{verb}_operatorscope" for verb in ("add", "change", "delete")),
            "reset_second_factor",
        ]
    )
    # Supervisors find the login whose authenticator they reset (view only).
    users = Permission.objects.filter(
        content_type__app_label="auth", codename="view_user"
    )
    for group in Group.objects.filter(name="supervisor"):
        group.permissions.add(*edit, *users)


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0011_obligation_region_backfill"),
        ("market", "0012_operator_scopes"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
