"""The demo shows what the hardware and trust constraints change: its clusters are
verified (some with a TEE, chips of 64 to 96 GB), its history gives the providers
different reliability scores through real trades and settlements, and a bid that
asks for 80 GB and reliable providers skips the cheaper asks it rules out. The
deliveries bot reports each provider's share and confirms what buyers bought; the
procurement bot buys only what its constraints allow."""

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.test import override_settings
from yiwang_client.codec import decode, encode, query
from yiwang_client.models import Book, Delivery, Instrument, OrderWithFills, Page

from exchange.bots import deliveries, procure
from exchange.bots.client import Client
from exchange.models import Instrument as InstrumentRow
from exchange.models import Order, Trade
from exchange.services.instruments import instrument_close
from market.models import Cluster
from settlement.models import Obligation, ProviderScore
from tests.apiclient import client_for
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, tomorrow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _demo(settings):
    settings.YIWANG_DEMO = True  # seed_demo runs only in the demo


@override_settings(EXCHANGE_LIST_DAYS_AHEAD=1)
def test_demo_history_when_seeded_gives_providers_different_scores():
    err = StringIO()
    call_command("seed_demo", "--history", stdout=StringIO(), stderr=err)
    # Its trades leave the demo's quotes the capacity they need, and it is closed,
    # so bots looking for the next open instrument pass it over.
    assert err.getvalue() == ""
    assert InstrumentRow.objects.get(symbol="DEMO-HISTORY").state == "closed"
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
    """The client calls the deliveries bot makes, answered from lists (rows as the
    client's Delivery model has them), the posts recorded as path and body."""

    def __init__(self, rows: dict) -> None:
        self.rows, self.posted = rows, []

    def list_deliveries(self, *, role, status, limit):
        rows = self.rows.get((role, status), [])
        return SimpleNamespace(results=[decode(Delivery, DELIVERY | r) for r in rows])

    def report_delivery(self, trade_id, *, delivered_quantity):
        body = {"delivered_quantity": str(delivered_quantity)}
        self.posted.append((f"deliveries/{trade_id}/report/", body))

    def confirm_delivery(self, trade_id):
        self.posted.append((f"deliveries/{trade_id}/confirm/", None))

    def dispute_delivery(self, trade_id, *, reason):
        self.posted.append((f"deliveries/{trade_id}/dispute/", {"reason": reason}))


# The fields of a delivery row the deliveries bot does not read.
DELIVERY = {
    "instrument": "TRAIN-20261208",
    "role": "seller",
    "quantity": "100.0",
    "price": "10.00",
    "surcharge": "0.00",
    "all_in_price": "10.00",
    "delivered_quantity": None,
    "status": "pending",
    "delivery_start": "2026-12-08T00:00:00+08:00",
    "delivery_end": "2026-12-09T00:00:00+08:00",
    "report_deadline": "2026-12-09T06:00:00+08:00",
    "confirm_deadline": "2026-12-10T00:00:00+08:00",
    "reported_at": None,
    "confirmed_at": None,
    "disputed_at": None,
    "dispute_reason": "",
    "settled_at": None,
}


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


class ApiClient:
    """The bots' client calls, made through the test client with a buyer's key,
    the answers decoded as the Python client decodes them."""

    def __init__(self, participant) -> None:
        self.api = client_for(participant)

    def get_book(self, symbol, **params):
        url = f"/api/v1/instruments/{symbol}/book/"
        response = self.api.get(url, query(params))  # as the client sends them
        assert response.status_code == 200, response.json()
        return decode(Book, response.json())

    def place_order(self, **fields):
        body = encode({k: v for k, v in fields.items() if v is not None})
        response = self.api.post("/api/v1/orders/", body, format="json")
        assert response.status_code == 201, response.json()
        return decode(OrderWithFills, response.json())

    def list_instruments(self, **params):
        response = self.api.get("/api/v1/instruments/", params)
        assert response.status_code == 200, response.json()
        return decode(Page[Instrument], response.json())

    # How the bots find the next open instrument, as their client does it.
    instrument = Client.instrument


@pytest.mark.parametrize(
    ("constraints", "sold_from"),
    [(None, "64gb"), ({"min_memory_gb": 80, "min_reliability": "0.90"}, "80gb")],
)
def test_procure_bot_when_constrained_buys_only_the_asks_allowed(
    instrument, constraints, sold_from
):
    """The demo's lab needs 80 GB per chip: its bot prices from the asks the
    constraints allow and its bids carry them, so the cheaper 64 GB ask is left."""
    small = make_seller(chip="huawei-ascend-910b")
    large = make_seller(chip="nvidia-h100-sxm-80gb")
    for seller, price in ((small, "11.00"), (large, "12.00")):
        ApiClient(seller).place_order(
            instrument=instrument.symbol,
            side="sell",
            price=price,
            quantity="10.0",
            cluster=seller.cluster.pk,
        )
    args = argparse.Namespace(
        region="CITY-SH", limit="14.00", stacks=None, constraints=constraints
    )
    got = procure.buy_round(
        ApiClient(make_buyer()), instrument.symbol, args, Decimal("5.0")
    )
    assert got == Decimal("5.0")
    [trade] = Trade.objects.all()
    expected = {"64gb": small, "80gb": large}[sold_from]
    assert trade.sell_order.cluster == expected.cluster


def test_procure_bot_constraints_when_stacks_are_given_join_the_others():
    args = argparse.Namespace(
        stacks="CUDA,CANN", constraints={"confidential": True, "chips": ["a", "b"]}
    )
    assert procure.constraints_of(args) == {
        "confidential": True,
        "chips": ["a", "b"],
        "stacks": ["CUDA", "CANN"],
    }


def test_procure_bot_when_its_instrument_closes_moves_to_the_next_open_one(
    instrument,
):
    """The bot looks up the next open instrument each round: once the one it
    started on has closed at its gate, it buys on the next (it used to poll the
    closed one's empty book for ever)."""
    later = make_instrument(start=tomorrow() + timedelta(days=1))
    seller = make_seller(chip="nvidia-h100-sxm-80gb")
    ApiClient(seller).place_order(
        instrument=later.symbol,
        side="sell",
        price="12.00",
        quantity="10.0",
        cluster=seller.cluster.pk,
    )

    class GateMeanwhile(ApiClient):
        def get_book(self, symbol, **params):
            book = super().get_book(symbol, **params)
            if symbol == instrument.symbol:  # nothing to buy; its gate passes
                instrument_close(
                    instrument_id=instrument.pk, now=instrument.gate_closure_at
                )
            return book

    args = argparse.Namespace(
        quantity="5.0",
        symbol=None,
        profile="train",
        interval=0,
        region="CITY-SH",
        limit="14.00",
        stacks=None,
        constraints=None,
    )
    client = GateMeanwhile(make_buyer())
    deadline = time.monotonic() + 10
    assert procure.procure(client, args, deadline) == Decimal("5.0")
    [trade] = Trade.objects.all()
    assert trade.instrument_id == later.pk
