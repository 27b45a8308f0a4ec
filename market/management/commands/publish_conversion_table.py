"""Publish a new, immutable conversion table (with --surcharges, surcharge tables)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from market import services


class Command(BaseCommand):
    help = "Compute every chip's factor per profile and publish a new table version."

    def add_arguments(self, parser):
        parser.add_argument("--notes", default="")
        parser.add_argument(
            "--surcharges",
            action="store_true",
            help="also publish new surcharge tables from the current links",
        )

    def handle(self, *args, notes: str, surcharges: bool, **options):
        with transaction.atomic(durable=True):
            table = services.conversion_table_publish(notes=notes)
            count = table.factors.count()
            if surcharges:
                services.surcharge_tables_publish()
        self.stdout.write(
            f"Published conversion table v{table.version} ({count} factors)."
        )
        self.stdout.write(str(table.version))
