"""Derive default network links from region coordinates (see market/geo.py)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from market import services


class Command(BaseCommand):
    help = (
        "Create or refresh derived network links; --overwrite also resets edited ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("--overwrite", action="store_true")

    def handle(self, *args, overwrite: bool, **options):
        with transaction.atomic(durable=True):
            created, updated = services.links_derive(overwrite=overwrite)
        self.stdout.write(f"{created} links created, {updated} refreshed.")
