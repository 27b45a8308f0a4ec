"""The operators' groups (DESIGN.md, "Operators"), with the permissions they hold:

- viewer: every `view` permission of the market, exchange and settlement models;
- operator: halts, cancels, cluster resizing, buyer and seller roles, dispute
  resolutions (proposed), revoking API keys, editing participants and clusters;
- treasury: deposit decisions (large ones proposed), manual adjustments (proposed);
- supervisor: approves four-eyes proposals, proposes table publications, edits the
  catalogue, flags the network operator, moves participants to another login,
  exports the audit trail.

Everyone in a group also holds the viewer's permissions. A login needs `is_staff`
to enter admin at all; what it may do there comes from its groups. The migration
lives in `exchange` because it needs every app's permissions, and exchange's
migrations come last.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ("market", "exchange", "settlement")
CATALOGUE = (
    "hub",
    "region",
    "networklink",
    "softwarestack",
    "chipmodel",
    "workloadprofile",
    "benchmarkfactor",
)
GROUPS = {
    "viewer": [],
    "operator": [
        "exchange.halt_instrument",
        "exchange.cancel_order",
        "market.resize_cluster",
        "market.set_participant_roles",
        "market.revoke_apikey",
        "market.change_participant",
        "market.add_cluster",
        "market.change_cluster",
        "settlement.resolve_dispute",
    ],
    "treasury": [
        "settlement.approve_depositrequest",
        "settlement.post_adjustment",
    ],
    "supervisor": [
        "market.approve_proposal",
        "market.publish_conversiontable",
        "market.set_network_operator",
        "market.reassign_participant_login",
        "market.export_auditentry",
        *(
            f"market.{verb}_{model}"
            for model in CATALOGUE
            for verb in ("add", "change")
        ),
    ],
}


def _permissions(apps):
    """Permissions are created after all migrations (post_migrate); create this
    state's now, so the groups can hold them."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.filter(
            content_type__app_label__in=APPS
        ).select_related("content_type")
    }


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = _permissions(apps)
    view = [p for name, p in permissions.items() if ".view_" in name]
    for name, extra in GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*view, *(permissions[perm] for perm in extra))


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("exchange", "0004_operator_permissions"),
        ("market", "0005_audit_append_only"),
        ("settlement", "0005_operator_permissions"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
