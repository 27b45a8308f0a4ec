"""Withdrawal payouts above the four-eyes amount are proposals (settlement)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("market", "0010_region_suspension"),
    ]

    operations = [
        migrations.AlterField(
            model_name="proposal",
            name="kind",
            field=models.CharField(
                choices=[
                    ("adjustment", "manual adjustment"),
                    ("deposit_approval", "deposit approval"),
                    ("dispute_resolution", "dispute resolution"),
                    ("table_publication", "table publication"),
                    ("withdrawal_payout", "withdrawal payout"),
                ],
                max_length=32,
                verbose_name="kind",
            ),
        ),
    ]
