"""A sell's attributes as it got its place (verified TEE and certifications of its
cluster, its provider's reliability), so a resting sell never changes bucket. Open
sells placed before are given what their clusters were verified with (nothing yet)
and a new provider's reliability, 0.90: no provider had a score before this.

Also the operators' groups gain what this brings: the operator verifies clusters
(`market.verify_cluster`), and everyone views the providers' scores (the groups'
migration, 0005, explains why group permissions are granted here)."""

from decimal import Decimal

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

NEW_PROVIDER = Decimal("0.90")
GROUPS = ("viewer", "operator", "treasury", "supervisor")


def stamp_open_sells(apps, schema_editor):
    Order = apps.get_model("exchange", "Order")
    Order.objects.filter(side="sell", status__in=["open", "partially_filled"]).update(
        confidential=False, certifications="", reliability=NEW_PROVIDER
    )


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(
        content_type__app_label="settlement", codename="view_providerscore"
    )
    verify = Permission.objects.get(
        content_type__app_label="market", codename="verify_cluster"
    )
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(view)
        if group.name == "operator":
            group.permissions.add(verify)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("exchange", "0007_products_backfill"),
        ("market", "0007_cluster_attributes"),
        ("settlement", "0006_reliability"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="certifications",
            field=models.CharField(
                blank=True, max_length=200, verbose_name="certifications"
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="confidential",
            field=models.BooleanField(null=True, verbose_name="confidential computing"),
        ),
        migrations.AddField(
            model_name="order",
            name="reliability",
            field=models.DecimalField(
                decimal_places=2,
                max_digits=3,
                null=True,
                verbose_name="provider reliability",
            ),
        ),
        migrations.RunPython(stamp_open_sells, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
