"""The soak's market, made through the operator commands on its own database: the
catalogue, funded participants (buyers, providers with large A100 clusters, a market
maker, a network operator), an operator for disputes, and the first short windows.
Also the operator's side of the run: resolving disputes through the service."""

import logging
import threading
from decimal import Decimal
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from market.models import ChipModel, Cluster, Participant, Region
from settlement import services
from settlement.exceptions import DeliveryNotAllowed
from settlement.models import Obligation
from tests.soak.bots import BotSpec

log = logging.getLogger("soak")
DEPOSIT = Decimal(10_000_000)
CHIP = "nvidia-a100-80gb-sxm"  # factor 1 for train, infer and hpc
# A minute's window needs 60 chips per SCU-h: room for every bot's open sells.
CLUSTER_CHIPS = 100_000
BUYER_REGIONS = ["CITY-SH", "CITY-BJ", "CLU-GUIAN"]
SELLER_REGIONS = ["CLU-GUIAN", "CLU-QINGYANG", "CITY-SH"]


def participant(name: str, roles: str, region: str, deposit: Decimal) -> tuple:
    out = StringIO()
    call_command(
        "create_participant",
        name,
        *("--roles", roles, "--deposit", str(deposit), "--region", region, "--token"),
        stdout=out,
    )
    key = out.getvalue().strip().splitlines()[-1]
    return Participant.objects.get(user__username=name), key


def cluster_for(p: Participant, region: str) -> int:
    return Cluster.objects.create(
        participant=p,
        name=f"{p.display_name}-a100",
        region=Region.objects.get(code=region),
        chip=ChipModel.objects.get(code=CHIP),
        count=CLUSTER_CHIPS,
        verified_at=timezone.now(),
    ).pk


def seed(mix: dict[str, int]) -> tuple[list[BotSpec], Decimal]:
    """Participants for `mix` (kind -> how many bots), and the first windows.
    Returns the bots and the total deposited."""
    call_command("migrate", verbosity=0)
    call_command("load_catalogue", verbosity=0)
    netop, _ = participant("soak-netop", "buyer", "CITY-BJ", Decimal(0))
    Participant.objects.filter(pk=netop.pk).update(is_network_operator=True)
    get_user_model().objects.create_user("soak-operator", is_staff=True)
    specs, deposited = [], Decimal(0)
    for kind, count in mix.items():
        for n in range(count):
            name = f"{kind}{n + 1}"
            sells = kind in ("seller", "mm", "canceller")
            roles = {"seller": "seller", "buyer": "buyer"}.get(kind, "buyer,seller")
            region = (SELLER_REGIONS if sells else BUYER_REGIONS)[n % 3]
            p, key = participant(name, roles, region, DEPOSIT)
            cluster = cluster_for(p, region) if sells else None
            specs.append(BotSpec(name, kind, p.pk, key, region, cluster))
            deposited += DEPOSIT
    call_command("list_instruments", stdout=StringIO())
    return specs, deposited


class Operator(threading.Thread):
    """Resolves each disputed delivery through the service (as an operator's admin
    action would), setting what the provider reported, until told to stop."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__(name="operator", daemon=True)
        self.stop, self.resolved, self.errors = stop, 0, 0
        self.user = get_user_model().objects.get(username="soak-operator")

    def run(self) -> None:
        while not self.stop.wait(2):
            try:
                for ob in Obligation.objects.filter(status="disputed"):
                    delivered = ob.delivered_quantity
                    with transaction.atomic(durable=True):
                        services.dispute_resolve(
                            trade_id=ob.trade_id,
                            delivered=ob.quantity if delivered is None else delivered,
                            resolved_by=self.user,
                            now=timezone.now(),
                        )
                    self.resolved += 1
            except (DatabaseError, DeliveryNotAllowed):
                # PostgreSQL restarting, or the trade moved on: next round.
                self.errors += 1
                connections.close_all()
        connections.close_all()
