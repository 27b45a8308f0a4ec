"""Clusters' declared and verified attributes (confidential computing,
certifications) and participants' legal entity. Clusters that existed before
verification are marked verified, as declared (nothing declared yet), so nothing
stops selling when this lands."""

from django.db import migrations, models
from django.utils import timezone


def verify_existing(apps, schema_editor):
    Cluster = apps.get_model("market", "Cluster")
    Cluster.objects.filter(verified_at__isnull=True).update(verified_at=timezone.now())


def unverify(apps, schema_editor):
    apps.get_model("market", "Cluster").objects.update(verified_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("market", "0006_tariffperiod"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="cluster",
            options={
                "ordering": ["participant", "name"],
                "permissions": [
                    ("resize_cluster", "Can resize a cluster"),
                    ("verify_cluster", "Can verify a cluster and its attributes"),
                ],
                "verbose_name": "cluster",
                "verbose_name_plural": "clusters",
            },
        ),
        migrations.AddField(
            model_name="cluster",
            name="certifications",
            field=models.CharField(
                blank=True, max_length=200, verbose_name="certifications"
            ),
        ),
        migrations.AddField(
            model_name="cluster",
            name="confidential",
            field=models.BooleanField(
                default=False, verbose_name="confidential computing (TEE)"
            ),
        ),
        migrations.AddField(
            model_name="cluster",
            name="declared_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="declared at"
            ),
        ),
        migrations.AddField(
            model_name="cluster",
            name="verified_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="verified at"
            ),
        ),
        migrations.AddField(
            model_name="cluster",
            name="verified_certifications",
            field=models.CharField(
                blank=True, max_length=200, verbose_name="verified certifications"
            ),
        ),
        migrations.AddField(
            model_name="cluster",
            name="verified_confidential",
            field=models.BooleanField(
                default=False, verbose_name="verified confidential computing"
            ),
        ),
        migrations.AddField(
            model_name="participant",
            name="legal_entity",
            field=models.SlugField(
                blank=True,
                help_text="Public handle of the legal entity, set by an operator; participants sharing it are affiliated and share one reliability score.",
                max_length=64,
                verbose_name="legal entity",
            ),
        ),
        migrations.RunPython(verify_existing, unverify),
    ]
