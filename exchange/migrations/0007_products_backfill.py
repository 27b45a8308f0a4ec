"""Instruments listed before products existed: a scheduled listing of a whole
Shanghai day is the `day` product, anything else (an operator's window, the
drills' minute windows) a `special`; closed ones get the settlement price their
gate would have fixed (the volume-weighted site price of their trades, half-up to
the tick). And the operators' groups gain the new models: everyone views listing
plans and time-of-use periods; supervisors, who edit the catalogue, edit them."""

from datetime import time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.management import create_permissions
from django.db import migrations

SHANGHAI = ZoneInfo("Asia/Shanghai")
GROUPS = ("viewer", "operator", "treasury", "supervisor")
EDITS = (
    "exchange.add_listingplan",
    "exchange.change_listingplan",
    "exchange.delete_listingplan",
    "market.add_tariffperiod",
    "market.change_tariffperiod",
    "market.delete_tariffperiod",
)
VIEWS = ("exchange.view_listingplan", "market.view_tariffperiod")


def products(apps, schema_editor):
    instrument = apps.get_model("exchange", "Instrument")
    trade = apps.get_model("exchange", "Trade")
    for row in instrument.objects.all().iterator():
        local = row.delivery_start.astimezone(SHANGHAI)
        whole_day = row.delivery_end - row.delivery_start == timedelta(hours=24)
        if row.listed_automatically and whole_day and local.time() == time(0):
            row.product = "day"
        if row.state in ("closed", "settled"):
            row.settlement_price = _vwap(trade, row)
        row.save(update_fields=["product", "settlement_price"])


def _vwap(trade, instrument):
    volume, value = Decimal(0), Decimal(0)  # in Python: SQLite sums floats
    for price, quantity in trade.objects.filter(instrument=instrument).values_list(
        "price", "quantity"
    ):
        volume += quantity
        value += price * quantity
    if not volume:
        return None
    tick = instrument.tick_size
    return (value / volume / tick).quantize(Decimal(1), ROUND_HALF_UP) * tick


def groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group")

    def get(name):
        app, codename = name.split(".")
        return permission.objects.get(content_type__app_label=app, codename=codename)

    for name in GROUPS:
        found = group.objects.filter(name=name).first()
        if found is None:
            continue
        found.permissions.add(*(get(p) for p in VIEWS))
        if name == "supervisor":
            found.permissions.add(*(get(p) for p in EDITS))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("exchange", "0006_products_in_time"),
        ("market", "0006_tariffperiod"),
    ]
    operations = [
        migrations.RunPython(products, migrations.RunPython.noop),
        migrations.RunPython(groups, migrations.RunPython.noop),
    ]
