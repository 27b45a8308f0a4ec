"""Region suspension (market 0010): operators suspend and resume regions, every
operators' group sees the suspensions (the groups' migration, 0005, explains why
group permissions are granted here)."""

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
    view = market.filter(codename="view_regionsuspension")
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(*view)
    suspend = market.filter(codename="suspend_region")
    for group in Group.objects.filter(name="operator"):
        group.permissions.add(*suspend)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("exchange", "0009_notification_permissions"),
        ("market", "0010_region_suspension"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
