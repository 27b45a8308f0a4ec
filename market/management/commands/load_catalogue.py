"""Load the reference fixtures into an empty catalogue, then publish the first tables.

Idempotent: a catalogue that already has regions is left alone, so operators' edits in
admin survive a second `make run`.
"""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from market import services
from market.models import ConversionTable, Region, SurchargeTable, TariffPeriod

TARIFFS = "tariffs.json"


class Command(BaseCommand):
    help = "Load fixtures/ into an empty catalogue and publish tables if none exist."

    def handle(self, *args, **options):
        with transaction.atomic(durable=True):
            if not Region.objects.exists():
                fixtures = sorted(Path(settings.BASE_DIR, "fixtures").glob("*.json"))
                call_command("loaddata", *map(str, fixtures), verbosity=0)
                self.stdout.write(f"Loaded {len(fixtures)} catalogue fixtures.")
            elif not TariffPeriod.objects.exists():
                # A catalogue loaded before time-of-use tariffs existed gets them.
                tariffs = Path(settings.BASE_DIR, "fixtures", TARIFFS)
                call_command("loaddata", str(tariffs), verbosity=0)
                self.stdout.write("Loaded the time-of-use tariffs.")
            if not ConversionTable.objects.exists():
                table = services.conversion_table_publish(notes="initial table")
                self.stdout.write(f"Published conversion table v{table.version}.")
            if not SurchargeTable.objects.exists():
                tables = services.surcharge_tables_publish()
                self.stdout.write(f"Published {len(tables)} surcharge tables.")
