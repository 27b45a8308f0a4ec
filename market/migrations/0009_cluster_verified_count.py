from django.db import migrations, models
from django.db.models import F


def checked_as_they_stand(apps, schema_editor):
    """A verified cluster's count was checked with it: nothing sells less."""
    Cluster = apps.get_model("market", "Cluster")
    Cluster.objects.filter(verified_at__isnull=False).update(verified_count=F("count"))


class Migration(migrations.Migration):
    dependencies = [
        ("market", "0008_notifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="cluster",
            name="verified_count",
            field=models.PositiveIntegerField(
                blank=True, null=True, verbose_name="verified chip count"
            ),
        ),
        migrations.RunPython(checked_as_they_stand, migrations.RunPython.noop),
    ]
