"""An operator lifts a region's suspension: its providers may sell again and buys
from it are accepted. Prints the region's code."""

from django.core.management.base import BaseCommand, CommandError

from exchange.services.regions import region_resume
from market.exceptions import DomainError
from market.operations import operator_named


class Command(BaseCommand):
    help = "Resume trading in a suspended region."

    def add_arguments(self, parser):
        parser.add_argument("code", help="region code, e.g. CLU-GUIAN")
        parser.add_argument(
            "--operator", help="username of the operator (in the demo: the demo's)"
        )
        parser.add_argument("--reason", default="", help="for the audit trail")

    def handle(self, *args, code, operator, reason, **options):
        try:
            user = operator_named(
                operator, permission="market.suspend_region", may="resume regions"
            )
            region_resume(region=code, operator=user, reason=reason)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{code} resumed")
