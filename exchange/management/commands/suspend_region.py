"""An operator suspends trading in a region (a power shortage, a network fault):
its resting sells are cancelled, new sells there and buys from there are refused.
Prints the region's code and the number of sells cancelled."""

from django.core.management.base import BaseCommand, CommandError

from exchange.services.regions import region_suspend
from market.exceptions import DomainError
from market.operations import operator_named


class Command(BaseCommand):
    help = "Suspend trading in a region (cancels its resting sells)."

    def add_arguments(self, parser):
        parser.add_argument("code", help="region code, e.g. CLU-GUIAN")
        parser.add_argument("--reason", required=True, help="why, for the audit trail")
        parser.add_argument(
            "--operator", help="username of the operator (in the demo: the demo's)"
        )

    def handle(self, *args, code, reason, operator, **options):
        try:
            user = operator_named(
                operator, permission="market.suspend_region", may="suspend regions"
            )
            _, cancelled = region_suspend(region=code, reason=reason, operator=user)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{code} suspended: {len(cancelled)} sells cancelled")
