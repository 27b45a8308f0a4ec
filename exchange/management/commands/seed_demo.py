"""The demo market of `make run`: an operator, a network operator, providers with
clusters in eastern and western regions, and buyers in the eastern cities.

Idempotent: everything is looked up by username or name first, so a second `make run`
changes nothing.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from exchange.exceptions import ExchangeError
from exchange.models import Instrument
from exchange.services.instruments import instruments_list
from exchange.services.placement import order_place
from exchange.services.requests import OrderRequest
from market import services as market_services
from market.exceptions import DomainError
from market.models import ChipModel, Participant, Region
from settlement.interface import deposit_post

DEMO_PASSWORD = "yiwang-demo"  # noqa: S105  (printed for the demo, by design)
DEMO_DEPOSIT = Decimal("5000000")

# A few resting quotes per open train/infer instrument, so the demo book is not empty:
# (username, side, cluster name or origin region, price, quantity).
QUOTES = [
    ("guian", "sell", "GA-910B", "9.60", "800.0"),
    ("zhongwei", "sell", "ZW-A800", "9.80", "600.0"),
    ("horinger", "sell", "HR-H100", "10.10", "900.0"),
    ("wuhu", "sell", "WH-H100", "10.40", "300.0"),
    ("bjlab", "buy", "CITY-BJ", "10.20", "500.0"),
    ("shrender", "buy", "CITY-SH", "10.00", "400.0"),
    ("szgen", "buy", "CITY-SZ", "9.90", "300.0"),
]

# username, display name, roles, home region, clusters (name, region, chip, count)
PARTICIPANTS = [
    ("netop", "National Compute Network 国家算力网", (), "CITY-BJ", []),
    (
        "guian",
        "Gui'an Cloud 贵安云",
        ("seller",),
        "CLU-GUIAN",
        [
            ("GA-910B", "CLU-GUIAN", "huawei-ascend-910b", 512),
            ("GA-H20", "CLU-GUIAN", "nvidia-h20-96gb", 256),
        ],
    ),
    (
        "zhongwei",
        "Zhongwei Compute 中卫算力",
        ("seller",),
        "CLU-ZHONGWEI",
        [("ZW-A800", "CLU-ZHONGWEI", "nvidia-a800-80gb-sxm", 256)],
    ),
    (
        "horinger",
        "Horinger Green DC 和林格尔绿色数据中心",
        ("seller",),
        "CLU-HORINGER",
        [("HR-H100", "CLU-HORINGER", "nvidia-h100-sxm-80gb", 128)],
    ),
    (
        "wuhu",
        "Wuhu IDC 芜湖数据中心",
        ("seller",),
        "CLU-WUHU",
        [
            ("WH-H100", "CLU-WUHU", "nvidia-h100-sxm-80gb", 64),
            ("WH-EPYC", "CLU-WUHU", "amd-epyc-9654", 512),
        ],
    ),
    ("bjlab", "Beijing AI Lab 北京智算实验室", ("buyer",), "CITY-BJ", []),
    ("shrender", "Shanghai Render Farm 上海渲染农场", ("buyer",), "CITY-SH", []),
    (
        "szgen",
        "Shenzhen Genomics 深圳基因",
        ("buyer", "seller"),
        "CITY-SZ",
        [("SZ-A100", "CLU-SHAOGUAN", "nvidia-a100-80gb-sxm", 32)],
    ),
]


class Command(BaseCommand):
    help = "Create the demo participants and clusters (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url: str, **options):
        with transaction.atomic(durable=True):
            self._operator()
            for spec in PARTICIPANTS:
                self._participant(*spec)
        listed = instruments_list(days=settings.EXCHANGE_LIST_DAYS_AHEAD)
        if listed:
            self.stdout.write(f"Listed {', '.join(i.symbol for i in listed)}.")
        self._quotes()
        self.stdout.write(
            f"\nYiwang demo market: {url}\n"
            f"  operator (admin):  admin / {DEMO_PASSWORD}   {url}admin/\n"
            f"  buyers:            bjlab, shrender, szgen / {DEMO_PASSWORD}\n"
            f"  providers:         guian, zhongwei, horinger, wuhu / {DEMO_PASSWORD}\n"
        )

    def _operator(self) -> None:
        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)

    def _participant(self, username, name, roles, home, clusters) -> None:
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username, password=DEMO_PASSWORD)
        participant, _ = Participant.objects.get_or_create(
            user=user,
            defaults={
                "display_name": name,
                "is_buyer": "buyer" in roles,
                "is_seller": "seller" in roles,
                "home_region": Region.objects.get(code=home),
                "is_network_operator": username == "netop",
            },
        )
        with transaction.atomic():
            deposit_post(
                participant=participant,
                amount=DEMO_DEPOSIT,
                key=f"demo:deposit:{username}",
                memo="demo deposit",
            )
        for cluster_name, region, chip, count in clusters:
            if participant.clusters.filter(name=cluster_name).exists():
                continue
            market_services.cluster_create(
                participant=participant,
                name=cluster_name,
                region=Region.objects.get(code=region),
                chip=ChipModel.objects.get(code=chip),
                count=count,
            )

    def _quotes(self) -> None:
        """Rest the demo quotes on each open train instrument (idempotent through
        client_order_id)."""
        instruments = Instrument.objects.filter(
            state=Instrument.State.OPEN, profile__code="train"
        ).order_by("delivery_start")
        for instrument in instruments:
            for username, side, where, price, qty in QUOTES:
                participant = Participant.objects.get(user__username=username)
                site = (
                    {"cluster": participant.clusters.get(name=where).pk}
                    if side == "sell"
                    else {"region": where}
                )
                request = OrderRequest(
                    instrument=instrument.symbol,
                    side=side,
                    quantity=Decimal(qty),
                    price=Decimal(price),
                    client_order_id=f"demo-{instrument.symbol}-{username}",
                    **site,
                )
                try:
                    order_place(participant=participant, request=request)
                except (ExchangeError, DomainError) as exc:
                    self.stderr.write(f"demo quote {username} on {instrument}: {exc}")
