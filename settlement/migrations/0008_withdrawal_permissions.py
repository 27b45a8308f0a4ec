"""The treasury pays out and rejects withdrawal requests; every operators' group may
view them (the groups are shipped by exchange 0005, which explains why permissions
are granted in migrations)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ("viewer", "operator", "treasury", "supervisor")
TREASURY = ("pay_withdrawalrequest", "reject_withdrawalrequest")


def grant(apps, schema_editor):
    """Idempotent: tests run it again after a flush empties the groups."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    mine = Permission.objects.filter(content_type__app_label="settlement")
    view = mine.filter(codename="view_withdrawalrequest")
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(*view)
        if group.name == "treasury":
            group.permissions.add(*mine.filter(codename__in=TREASURY))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("exchange", "0005_operator_groups"),
        ("settlement", "0007_withdrawals"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
