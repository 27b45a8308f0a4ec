"""Create the instruments of the coming days (idempotent); beat runs the same job.
With EXCHANGE_LISTING_WINDOW_MINUTES set it lists the next short windows instead."""

from django.conf import settings
from django.core.management.base import BaseCommand

from exchange.services.instruments import instruments_list


class Command(BaseCommand):
    help = "List each profile's daily instrument for the coming days (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=settings.EXCHANGE_LIST_DAYS_AHEAD
        )

    def handle(self, *args, days: int, **options):
        for instrument in instruments_list(days=days):
            self.stdout.write(f"listed {instrument.symbol}")
