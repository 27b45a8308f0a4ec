"""The demo market of `make run`: an operator, a network operator, providers with
clusters in eastern and western regions (chips of several memory sizes, some with a
verified TEE and certifications), a delivery history that gives the providers
different reliability scores (`demo_history`), and buyers in the eastern cities,
some of whose bids ask for hardware and trust.

Idempotent: everything is looked up by username or name first, so a second `make run`
changes nothing. The operator's TOTP key (the admin asks staff for a code) is printed
when it is created, and again with --otp-key.
"""

from base64 import b32encode
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from exchange.exceptions import ExchangeError
from exchange.management.demo_history import history_seed
from exchange.models import Instrument
from exchange.services.instruments import instruments_list
from exchange.services.placement import order_place
from exchange.services.requests import OrderRequest
from market import operations, tariffs
from market import services as market_services
from market.exceptions import DomainError
from market.models import ChipModel, Cluster, Participant, Region
from market.selectors import table_factor
from settlement.interface import deposit_post

DEMO_PASSWORD = "yiwang-demo"  # noqa: S105  (printed for the demo, by design)
DEMO_DEPOSIT = Decimal("5000000")
TICK, LOT = Decimal("0.01"), Decimal("0.1")

# A few resting quotes per open train/infer day (a quarter of the quantity on each
# block), so the demo books are not empty: (username, side, cluster name or origin
# region, price, quantity). Bids stay below the asks plus surcharges: nothing trades
# until the bots do. Infer quotes at 90% of these prices.
QUOTES = [
    ("guian", "sell", "GA-910B", "9.60", "800.0"),
    ("zhongwei", "sell", "ZW-A800", "9.80", "600.0"),
    ("horinger", "sell", "HR-H100", "10.10", "900.0"),
    ("wuhu", "sell", "WH-H100", "10.40", "300.0"),
    ("bjlab", "buy", "CITY-BJ", "9.40", "500.0"),
    ("shrender", "buy", "CITY-SH", "9.20", "400.0"),
    ("szgen", "buy", "CITY-SZ", "9.10", "300.0"),
]
QUOTED_PROFILES = {"train": Decimal(1), "infer": Decimal("0.9")}

# Bids may carry constraints: the lab trains a large model (80 GB per chip, from
# providers that deliver); the genomics lab's data may only go to a TEE.
BID_CONSTRAINTS = {
    "bjlab": {"min_memory_gb": 80, "min_reliability": "0.90"},
    "szgen": {"confidential": True},
}
# What an operator verified of each demo cluster: (TEE, certifications).
VERIFIED = {
    "GA-910B": (False, ["MLPS3"]),
    "GA-H20": (True, ["MLPS3"]),
    "ZW-A800": (False, ["ISO27001"]),
    "HR-H100": (True, ["ISO27001", "MLPS3"]),
    "WH-H100": (False, []),
    "WH-EPYC": (True, ["MLPS2"]),
    "SZ-A100": (False, []),
}
# Each provider's legal entity: its public code on the providers' page.
ENTITIES = {
    "guian": "guian-cloud",
    "zhongwei": "zhongwei-compute",
    "horinger": "horinger-green-dc",
    "wuhu": "wuhu-idc",
    "szgen": "shenzhen-genomics",
}

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
        parser.add_argument(
            "--history",
            action="store_true",
            help="also trade and settle the providers' delivery history (once)",
        )
        parser.add_argument(
            "--otp-key",
            action="store_true",
            help="print the demo operator's TOTP key again",
        )

    def handle(
        self, *args, url: str, history: bool = False, otp_key: bool = False, **options
    ):
        if not settings.YIWANG_DEMO:  # never plant a known password by mistake
            raise CommandError(
                "seed_demo creates a superuser with a known password and funded "
                "demo accounts, so it runs only with YIWANG_DEMO=true (make run "
                "sets it)."
            )
        with transaction.atomic(durable=True):
            self._operator()
            device, created = self._operator_device()
            for spec in PARTICIPANTS:
                self._participant(*spec)
            self._verify()
        listed = instruments_list(days=settings.EXCHANGE_LIST_DAYS_AHEAD)
        if listed:
            self.stdout.write(f"Listed {', '.join(i.symbol for i in listed)}.")
        if history and history_seed("admin") is not None:
            self.stdout.write("Settled the providers' delivery history.")
        self._quotes()
        self.stdout.write(
            f"\nYiwang demo market: {url}\n"
            f"  operator (admin):  admin / {DEMO_PASSWORD}   {url}admin/\n"
            f"  buyers:            bjlab, shrender, szgen / {DEMO_PASSWORD}\n"
            f"  providers:         guian, zhongwei, horinger, wuhu / {DEMO_PASSWORD}\n"
        )
        self.stdout.write(self._otp_lines(device, shown=created or otp_key))

    def _operator(self) -> None:
        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)

    def _operator_device(self) -> tuple[TOTPDevice, bool]:
        """The operator's confirmed TOTP device, created on the first run."""
        operator = get_user_model().objects.get(username="admin")
        device = TOTPDevice.objects.devices_for_user(operator).first()
        if device is not None:
            return device, False
        return TOTPDevice.objects.create(user=operator, name="demo"), True

    @staticmethod
    def _otp_lines(device: TOTPDevice, *, shown: bool) -> str:
        if not shown:
            return (
                "  operator code:     from the authenticator app set up on the first "
                "run\n                     (seed_demo --otp-key prints its key again)\n"
            )
        key = b32encode(device.bin_key).decode()
        return (
            "  operator code:     the admin asks for a TOTP code; add this key to an "
            "authenticator app\n"
            f"                     key {key}\n"
            f"                     {device.config_url}\n"
        )

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
                "legal_entity": ENTITIES.get(username, ""),
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

    def _verify(self) -> None:
        """The demo operator verifies every demo cluster not verified yet."""
        operator = get_user_model().objects.get(username="admin")
        for cluster in Cluster.objects.filter(
            name__in=VERIFIED, verified_at__isnull=True
        ):
            confidential, certifications = VERIFIED[cluster.name]
            operations.cluster_verify(
                cluster_id=cluster.pk,
                operator=operator,
                reason="demo",
                now=timezone.now(),
                confidential=confidential,
                certifications=certifications,
            )

    def _quotes(self) -> None:
        """Rest the demo quotes on each open train and infer day and block
        (idempotent through client_order_id). A provider's ask in a block moves
        with its electricity: by what its chips' energy per SCU-h costs more or
        less in the block than over the day, at its region's time-of-use tariff,
        so night blocks are cheaper where night power is."""
        hourly = tariffs.hourly_by_region()
        instruments = Instrument.objects.filter(
            state=Instrument.State.OPEN,
            profile__code__in=QUOTED_PROFILES,
            product__in=Instrument.LISTED_PRODUCTS,
        ).order_by("delivery_start", "symbol")
        for instrument in instruments:
            for username, side, where, price, qty in QUOTES:
                participant = Participant.objects.get(user__username=username)
                scale = QUOTED_PROFILES[instrument.profile.code]
                price = (Decimal(price) * scale).quantize(TICK)
                quantity = Decimal(qty)
                if instrument.product == Instrument.Product.BLOCK:
                    quantity = (quantity / 4).quantize(LOT)
                if side == "sell":
                    cluster = participant.clusters.get(name=where)
                    price += electricity_offset(instrument, cluster, hourly)
                    site = {"cluster": cluster.pk}
                else:
                    site = {
                        "region": where,
                        "constraints": BID_CONSTRAINTS.get(username),
                    }
                request = OrderRequest(
                    instrument=instrument.symbol,
                    side=side,
                    quantity=quantity,
                    price=price,
                    client_order_id=f"demo-{instrument.symbol}-{username}",
                    **site,
                )
                try:
                    order_place(participant=participant, request=request)
                except (ExchangeError, DomainError) as exc:
                    self.stderr.write(f"demo quote {username} on {instrument}: {exc}")


def electricity_offset(instrument: Instrument, cluster, hourly) -> Decimal:
    """What a block's electricity costs more (or less) per SCU-h than the day's, for
    the cluster's chips in its region; 0 for a day or a chip without a TDP."""
    factor = table_factor(
        instrument.conversion_table_id, instrument.profile_id, cluster.chip_id
    )
    if instrument.product != Instrument.Product.BLOCK or not factor:
        return Decimal(0)
    if not cluster.chip.tdp_w:
        return Decimal(0)
    region = cluster.region
    kwh = Decimal(cluster.chip.tdp_w) / 1000 / factor * region.pue
    day = instrument.delivery_start.astimezone(tariffs.SHANGHAI).replace(hour=0)
    hours = hourly.get(region.pk)
    block = tariffs.window_multiplier(
        hours, instrument.delivery_start, instrument.delivery_end
    )
    whole = tariffs.window_multiplier(hours, day, day + timedelta(days=1))
    offset = kwh * region.electricity_price_cny_per_kwh * (block - whole)
    return offset.quantize(TICK, ROUND_HALF_UP)
