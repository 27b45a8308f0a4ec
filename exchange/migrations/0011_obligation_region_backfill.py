"""Obligations name their delivery region (settlement 0009) so that a region's
suspension is force majeure for them: fill it in from each trade's sell region.
Lives in exchange, whose migrations may depend on settlement's."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Obligation = apps.get_model("settlement", "Obligation")
    Trade = apps.get_model("exchange", "Trade")
    Obligation.objects.filter(region__isnull=True).update(
        region_id=Subquery(
            Trade.objects.filter(pk=OuterRef("trade_id")).values("sell_region_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0010_region_suspension_permissions"),
        ("settlement", "0009_obligation_region"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
