"""The order path's foreign keys are checked once per statement by triggers, not
once per row by FOREIGN KEY constraints (see `market.references`): the fields lose
their constraints here and in exchange 0004, and the triggers are installed last."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from market.references import Reference, install_sql, uninstall_sql

# (model, field) of every ForeignKey declared with `market.references.foreign_key`.
FIELDS = [
    ("exchange.Order", "instrument"),
    ("exchange.Order", "participant"),
    ("exchange.Order", "cluster"),
    ("exchange.Order", "region"),
    ("exchange.Order", "stack"),
    ("exchange.Trade", "instrument"),
    ("exchange.Trade", "buy_order"),
    ("exchange.Trade", "sell_order"),
    ("exchange.Trade", "buyer"),
    ("exchange.Trade", "seller"),
    ("exchange.Trade", "sell_region"),
    ("exchange.Trade", "buy_region"),
    ("exchange.OrderEvent", "instrument"),
    ("exchange.OrderEvent", "order"),
    ("settlement.JournalEntry", "caused_by"),
    ("settlement.Posting", "entry"),
    ("settlement.Posting", "account"),
    ("settlement.Hold", "participant"),
    ("settlement.Obligation", "buyer"),
    ("settlement.Obligation", "seller"),
    ("settlement.Obligation", "resolved_by"),
]


def _references(apps) -> list[Reference]:
    out = []
    for label, name in FIELDS:
        field = apps.get_model(label)._meta.get_field(name)
        out.append(
            Reference(
                table=field.model._meta.db_table,
                column=field.column,
                parent=field.related_model._meta.db_table,
                key=field.target_field.column,
            )
        )
    return out


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # no %-placeholders
            cursor.execute(install_sql(_references(apps)))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(uninstall_sql(_references(apps)))


class Migration(migrations.Migration):
    dependencies = [
        ("market", "0003_apikey"),
        ("settlement", "0004_balanced_per_statement"),
        ("exchange", "0004_foreign_keys_per_statement"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="hold",
            name="participant",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="holds",
                to="market.participant",
            ),
        ),
        migrations.AlterField(
            model_name="journalentry",
            name="caused_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="obligation",
            name="buyer",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="market.participant",
            ),
        ),
        migrations.AlterField(
            model_name="obligation",
            name="resolved_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="obligation",
            name="seller",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="market.participant",
            ),
        ),
        migrations.AlterField(
            model_name="posting",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="postings",
                to="settlement.account",
            ),
        ),
        migrations.AlterField(
            model_name="posting",
            name="entry",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="postings",
                to="settlement.journalentry",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
