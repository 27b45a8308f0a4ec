"""Propose publishing a new, immutable conversion table (with --surcharges, surcharge
tables too). Publishing is four-eyes: the proposal takes effect when a second
operator approves it in admin. Only `load_catalogue` publishes on its own, and only
the first tables of an empty catalogue."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from market import operations
from market.exceptions import DomainError


class Command(BaseCommand):
    help = (
        "Propose a new conversion table version (and surcharge tables); a second "
        "operator approves it in admin."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--operator", required=True, help="username of the proposing operator"
        )
        parser.add_argument("--reason", required=True)
        parser.add_argument("--notes", default="")
        parser.add_argument(
            "--surcharges",
            action="store_true",
            help="also publish new surcharge tables from the current links",
        )

    def handle(self, *args, operator: str, reason: str, **options):
        user = get_user_model().objects.filter(username=operator).first()
        if user is None or not (user.is_active and user.is_staff):
            raise CommandError(f"{operator} is not an active staff login.")
        if not user.has_perm("market.publish_conversiontable"):
            raise CommandError(f"{operator} may not propose table publications.")
        try:
            with transaction.atomic(durable=True):
                proposal = operations.tables_publication_propose(
                    operator=user,
                    reason=reason,
                    now=timezone.now(),
                    notes=options["notes"],
                    surcharges=options["surcharges"],
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Proposal #{proposal.pk} made: a second operator approves it in admin "
            f"before {proposal.expires_at.isoformat()}."
        )
        self.stdout.write(str(proposal.pk))
