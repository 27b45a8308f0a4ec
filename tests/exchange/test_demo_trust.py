"""The demo shows what the hardware and trust constraints change: its clusters are
verified (some with a TEE, chips of 64 to 96 GB), its history gives the providers
different reliability scores through real trades and settlements, and a bid that
asks for 80 GB and reliable providers skips the cheaper asks it rules out. The
deliveries bot reports each provider's share and confirms what buyers bought."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from exchange.bots import deliveries
from exchange.models import Order
from market.models import Cluster
from settlement.models import Obligation, ProviderScore

pytestmark = pytest.mark.django_db


@override_settings(EXCHANGE_LIST_DAYS_AHEAD=1)
def test_demo_history_when_seeded_gives_providers_different_scores():
    call_command("seed_demo", "--history", stdout=StringIO(), stderr=StringIO())
    scores = {
        s.participant.user.username: s.reliability
        for s in ProviderScore.objects.select_related("participant__user")
    }
    # 300 SCU-h each: all delivered; 95% reported late; a lost dispute.
    assert scores["guian"] == scores["horinger"] == Decimal("0.9750")
    assert scores["wuhu"] == Decimal("0.8625")
    assert scores["zhongwei"] == Decimal("0.2250")
    assert not Obligation.objects.exclude(status="settled").exists()
    tee = set(
        Cluster.objects.filter(verified_confidential=True).values_list(
            "name", flat=True
        )
    )
    assert tee == {"GA-H20", "HR-H100", "WH-EPYC"}
    bid = Order.objects.filter(
        participant__user__username="bjlab", side="buy", status="open"
    ).first()
    assert bid.constraints == {"min_memory_gb": 80, "min_reliability": "0.90"}
    zhongwei_ask = Order.objects.filter(
        participant__user__username="zhongwei", side="sell", status="open"
    ).first()
    assert zhongwei_ask.reliability == Decimal("0.22")
    settled = Obligation.objects.count()
    call_command("seed_demo", "--history", stdout=StringIO(), stderr=StringIO())
    assert Obligation.objects.count() == settled  # the history is made once


class FakeClient:
    """The calls the deliveries bot makes, answered from lists."""

    def __init__(self, rows: dict) -> None:
        self.rows, self.posted = rows, []

    def get(self, path, **params):
        return {"results": self.rows.get((params["role"], params["status"]), [])}

    def post(self, path, body=None):
        self.posted.append((path, body))
        return {}


def test_deliveries_bot_reports_its_share_of_started_trades_and_confirms():
    now = datetime.now(UTC)
    client = FakeClient(
        {
            ("seller", "pending"): [
                {
                    "trade_id": 1,
                    "quantity": "100.0",
                    "delivery_start": (now - timedelta(minutes=1)).isoformat(),
                },
                {
                    "trade_id": 2,
                    "quantity": "100.0",
                    "delivery_start": (now + timedelta(hours=1)).isoformat(),
                },
            ],
            ("buyer", "reported"): [{"trade_id": 3}],
        }
    )
    assert deliveries.report(client, Decimal("0.75"), now) == 1
    assert deliveries.confirm(client, random.Random(1), 0.0) == 1
    assert client.posted == [
        ("deliveries/1/report/", {"delivered_quantity": "75.0"}),
        ("deliveries/3/confirm/", None),
    ]
    assert deliveries.accounts("guian:0.9,bjlab") == [
        ("guian", Decimal("0.9")),
        ("bjlab", Decimal("1")),
    ]
