"""The operators' groups may view the notification log (market 0008): what was sent
to whom, and each attempt (the groups' migration, 0005, explains why group
permissions are granted here)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ("viewer", "operator", "treasury", "supervisor")
MODELS = ("notification", "notificationdelivery", "deliveryattempt")


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.filter(
        content_type__app_label="market",
        codename__in=[f"view_{model}" for model in MODELS],
    )
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(*view)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("exchange", "0008_order_sell_attributes"),
        ("market", "0008_notifications"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
