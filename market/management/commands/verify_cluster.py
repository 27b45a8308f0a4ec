"""An operator verifies clusters: their region, chip and count (from then on they
may sell) and what they declare, with the attributes as checked. Writes an audit row
per cluster, naming the operator (`--operator`; in the demo, where it may be left
out, the demo's operator)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from market import operations
from market.exceptions import DomainError
from market.models import Cluster

DEMO_OPERATOR = "admin"


class Command(BaseCommand):
    help = (
        "Verify clusters (by id, or all of a participant's): they may sell, with "
        "the attributes given. Prints the ids verified."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="cluster ids")
        parser.add_argument(
            "--participant", help="verify every cluster of this participant (login)"
        )
        parser.add_argument(
            "--confidential",
            action="store_true",
            help="a trusted execution environment was checked",
        )
        parser.add_argument(
            "--certifications",
            default="",
            help="certification codes checked, comma-separated (e.g. MLPS3,ISO27001)",
        )
        parser.add_argument(
            "--operator",
            help="username of the verifying operator (in the demo: the demo's)",
        )
        parser.add_argument("--reason", default="verified by command")

    def handle(self, *args, ids, participant, **options):
        if bool(ids) == bool(participant):
            raise CommandError("Name cluster ids or --participant, not both.")
        operator = self._operator(options["operator"])
        clusters = Cluster.objects.order_by("pk")
        clusters = (
            clusters.filter(participant__user__username=participant)
            if participant
            else clusters.filter(pk__in=ids)
        )
        found = list(clusters.values_list("pk", flat=True))
        missing = sorted(set(ids) - set(found))
        if missing or not found:
            raise CommandError(f"No such cluster: {missing or participant}.")
        codes = [c.strip() for c in options["certifications"].split(",") if c.strip()]
        try:
            with transaction.atomic(durable=True):
                for cluster_id in found:
                    operations.cluster_verify(
                        cluster_id=cluster_id,
                        operator=operator,
                        reason=options["reason"],
                        now=timezone.now(),
                        confidential=options["confidential"],
                        certifications=codes,
                    )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(" ".join(str(pk) for pk in found))

    def _operator(self, username: str | None):
        try:
            return operations.operator_named(
                username,
                permission="market.verify_cluster",
                may="verify clusters",
                demo=DEMO_OPERATOR,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
