"""The demo market of `make run`: an operator, a network operator, providers with
clusters in eastern and western regions, and buyers in the eastern cities.

Idempotent: everything is looked up by username or name first, so a second `make run`
changes nothing.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from market import services as market_services
from market.models import ChipModel, Participant, Region

DEMO_PASSWORD = "yiwang-demo"  # noqa: S105  (printed for the demo, by design)

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
