"""Buyers get exactly what they ask for, through the API: a buy's hardware and trust
constraints (chips, vendors, memory per chip, a verified TEE, certifications, the
provider's reliability) decide what fills it, whichever side arrives second; what an
operator has not verified does not count; an unknown key or code is a 400 naming
it; the order answer echoes the constraints as understood."""

from decimal import Decimal

import pytest

from exchange import books, codec, engine
from exchange.models import OrderEvent, Trade
from exchange.services.orders import order_amend
from market.models import Cluster
from settlement.models import ProviderScore
from tests.apiclient import client_for, error
from tests.exchange.conftest import make_buyer, make_seller

pytestmark = pytest.mark.django_db
H100 = "nvidia-h100-sxm-80gb"
ASCEND = "huawei-ascend-910b"  # 64 GB per chip
ORDERS = "/api/v1/orders/"


def ask(seller, instrument, price, quantity="10.0") -> dict:
    response = client_for(seller).post(
        ORDERS,
        {
            "instrument": instrument.symbol,
            "side": "sell",
            "price": price,
            "quantity": quantity,
            "cluster": seller.cluster.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def bid(buyer, instrument, constraints, price="14.00", quantity="5.0", **extra):
    body = {
        "instrument": instrument.symbol,
        "side": "buy",
        "price": price,
        "quantity": quantity,
        "constraints": constraints,
    }
    return client_for(buyer).post(ORDERS, body | extra, format="json")


def sellers_of(order: dict, *_sellers) -> list[str]:
    """The clusters a placed buy's fills sold from, in fill order."""
    trades = Trade.objects.filter(pk__in=[f["trade_id"] for f in order["fills"]])
    return [t.sell_order.cluster.name for t in trades.order_by("sequence")]


def score(seller, value: str) -> None:
    """The provider's published score (computed from its deliveries elsewhere:
    tests/settlement/test_reliability.py)."""
    ProviderScore.objects.update_or_create(
        participant=seller,
        defaults={"entity": seller.entity, "reliability": Decimal(value)},
    )


@pytest.fixture
def small_and_large(instrument):
    """A 64 GB ask cheap at Gui'an (1.00 cheaper at the site, cheaper all-in into
    Shanghai too) and an 80 GB ask at the same site."""
    small = make_seller(chip=ASCEND)
    large = make_seller(chip=H100)
    ask(small, instrument, "11.00")
    ask(large, instrument, "12.00")
    return small, large


def test_min_memory_when_a_cheaper_64gb_ask_is_better_all_in_fills_from_80gb(
    instrument, small_and_large
):
    small, large = small_and_large
    response = bid(make_buyer(), instrument, {"min_memory_gb": 80})
    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["status"] == "filled"
    assert sellers_of(order, small, large) == [large.cluster.name]
    assert Decimal(order["fills"][0]["price"]) == Decimal("12.00")
    assert order["constraints"]["min_memory_gb"] == 80
    unconstrained = bid(make_buyer(), instrument, {}).json()
    assert sellers_of(unconstrained, small, large) == [small.cluster.name]


def test_chips_when_the_bid_names_a_model_skips_the_others(instrument, small_and_large):
    small, large = small_and_large
    order = bid(make_buyer(), instrument, {"chips": [H100]}).json()
    assert sellers_of(order, small, large) == [large.cluster.name]
    order = bid(make_buyer(), instrument, {"vendors": ["Huawei"]}).json()
    assert sellers_of(order, small, large) == [small.cluster.name]


def test_confidential_when_a_tee_claim_is_unverified_fills_only_from_verified_tee(
    instrument,
):
    claimed = make_seller(chip=H100, confidential=True)
    Cluster.objects.filter(pk=claimed.cluster.pk).update(verified_confidential=False)
    verified = make_seller(chip=H100, confidential=True)
    ask(claimed, instrument, "11.00")  # declared a TEE an operator has not checked
    ask(verified, instrument, "12.00")
    order = bid(make_buyer(), instrument, {"confidential": True}).json()
    assert order["status"] == "filled"
    assert sellers_of(order, claimed, verified) == [verified.cluster.name]
    nothing = bid(make_buyer(), instrument, {"confidential": True}, price="11.50")
    assert nothing.json()["status"] == "open"  # the cheap ask does not count


def test_certifications_when_one_is_missing_do_not_fill(instrument):
    both = make_seller(chip=H100, certifications="ISO27001,MLPS3")
    one = make_seller(chip=H100, certifications="MLPS3")
    ask(one, instrument, "11.00")
    ask(both, instrument, "12.00")
    order = bid(make_buyer(), instrument, {"certifications": ["MLPS3", "ISO27001"]})
    assert sellers_of(order.json(), one, both) == [both.cluster.name]


def test_min_reliability_when_a_provider_is_below_skips_it_for_one_above(
    instrument,
):
    flaky, steady = make_seller(chip=H100), make_seller(chip=H100)
    score(flaky, "0.8567")
    score(steady, "0.9312")
    flaky_ask = ask(flaky, instrument, "11.00")
    ask(steady, instrument, "12.00")
    assert flaky_ask["attributes"]["reliability"] == "0.85"  # rounded down
    order = bid(make_buyer(), instrument, {"min_reliability": "0.90"}).json()
    assert sellers_of(order, flaky, steady) == [steady.cluster.name]
    assert order["constraints"]["min_reliability"] == "0.90"


def test_incoming_sells_when_resting_buys_constrain_fill_only_what_they_allow(
    instrument,
):
    """Each constraint holds for an incoming sell against resting buys: the sell
    passes over every better bid it does not meet."""
    buyers = {
        name: make_buyer()
        for name in ("memory", "chips", "tee", "reliable", "certified", "plain")
    }
    asks_for = {
        "memory": {"min_memory_gb": 80},
        "chips": {"chips": [H100]},
        "tee": {"confidential": True},
        "reliable": {"min_reliability": "0.95"},
        "certified": {"certifications": ["MLPS3"]},
        "plain": {},
    }
    prices = {"memory": "14.00", "chips": "13.90", "tee": "13.80"}
    prices |= {"reliable": "13.70", "certified": "13.60", "plain": "12.50"}
    for name, buyer in buyers.items():
        response = bid(buyer, instrument, asks_for[name], price=prices[name])
        assert response.json()["status"] == "open"
    ascend = make_seller(chip=ASCEND, confidential=True)  # 64 GB, a verified TEE
    taken = ask(ascend, instrument, "10.00", quantity="30.0")["fills"]
    assert [f["all_in_price"] for f in taken] == ["13.80", "12.50"]
    h100 = make_seller(chip=H100, certifications="MLPS3")
    score(h100, "0.9400")
    taken = ask(h100, instrument, "10.00", quantity="30.0")["fills"]
    assert [f["all_in_price"] for f in taken] == ["14.00", "13.90", "13.60"]


def test_incoming_sell_when_its_tee_is_unverified_or_score_low_skips_such_buys(
    instrument,
):
    """An incoming sell from a cluster whose TEE claim no operator has checked, of
    a provider below the bid's minimum, fills neither bid; a verified TEE of a
    provider above it fills both."""
    tee = bid(make_buyer(), instrument, {"confidential": True}, price="14.00")
    reliable = bid(make_buyer(), instrument, {"min_reliability": "0.95"}, "13.90")
    bid(make_buyer(), instrument, {}, price="12.50")
    assert tee.json()["status"] == reliable.json()["status"] == "open"
    claimed = make_seller(chip=H100, confidential=True)
    Cluster.objects.filter(pk=claimed.cluster.pk).update(verified_confidential=False)
    score(claimed, "0.9400")
    taken = ask(claimed, instrument, "10.00", quantity="20.0")["fills"]
    assert [f["all_in_price"] for f in taken] == ["12.50"]
    verified = make_seller(chip=H100, confidential=True)
    score(verified, "0.9600")
    taken = ask(verified, instrument, "10.00", quantity="20.0")["fills"]
    assert [f["all_in_price"] for f in taken] == ["14.00", "13.90"]


def test_unverified_cluster_when_it_sells_is_refused(instrument):
    seller = make_seller(chip=H100, verified=False)
    response = client_for(seller).post(
        ORDERS,
        {
            "instrument": instrument.symbol,
            "side": "sell",
            "price": "12.00",
            "quantity": "1.0",
            "cluster": seller.cluster.pk,
        },
        format="json",
    )
    assert response.status_code == 422
    assert error(response)["code"] == "cluster_not_verified"


@pytest.mark.parametrize(
    ("constraints", "key"),
    [
        ({"chips": ["nvidia-h100-sxm-80gb", "no-such-chip"]}, "chips"),
        ({"vendors": ["Nvidia"]}, "vendors"),
        ({"certifications": ["ISO9001"]}, "certifications"),
        ({"min_memory": 80}, "min_memory"),
        ({"min_reliability": "0.905"}, "min_reliability"),
        ({"min_reliability": "1.10"}, "min_reliability"),
        ({"min_memory_gb": 0}, "min_memory_gb"),
        ({"confidential": "yes"}, "confidential"),
    ],
)
def test_unknown_code_or_key_when_sent_is_a_400_naming_it(
    instrument, buyer, constraints, key
):
    response = bid(buyer, instrument, constraints)
    assert response.status_code == 400, response.json()
    body = error(response)
    assert body["code"] == "validation_error"
    assert key in body["fields"]["constraints"], body


def test_constraints_when_echoed_are_as_understood(instrument, buyer):
    response = bid(
        buyer,
        instrument,
        {
            "chips": [H100, ASCEND, H100],
            "vendors": ["NVIDIA", "Huawei"],
            "certifications": ["MLPS3"],
            "confidential": False,
            "min_memory_gb": 64,
        },
        price="10.00",
    )
    assert response.status_code == 201
    echoed = response.json()["constraints"]
    assert echoed["chips"] == sorted([H100, ASCEND])
    assert echoed["vendors"] == ["Huawei", "NVIDIA"]
    assert echoed["confidential"] is False
    assert (echoed["min_memory_gb"], echoed["min_reliability"]) == (64, None)


def test_order_list_when_filtered_by_client_order_id_finds_that_order(
    instrument, buyer
):
    bid(buyer, instrument, {}, price="10.00", client_order_id="bot-1")
    bid(buyer, instrument, {}, price="10.00", client_order_id="bot-2")
    api = client_for(buyer)
    rows = api.get(ORDERS, {"client_order_id": "bot-2"}).json()["results"]
    assert [r["client_order_id"] for r in rows] == ["bot-2"]
    response = api.get(ORDERS, {"client_id": "bot-2"})
    assert response.status_code == 400
    assert "client_id" in error(response)["fields"]


# --- market data -------------------------------------------------------------------
def test_book_when_given_constraint_fields_shows_only_the_asks_they_allow(
    instrument, small_and_large
):
    """A bot sees only what it can buy; ask levels carry chip, TEE and reliability."""
    book = f"/api/v1/instruments/{instrument.symbol}/book/"
    api = client_for()
    everything = api.get(book).json()["asks"]
    assert [(a["chip"], a["price"]) for a in everything] == [
        (ASCEND, "11.00"),
        (H100, "12.00"),
    ]
    assert everything[0]["confidential"] is False
    assert everything[0]["reliability"] == "0.90"
    assert everything[0]["certifications"] == []
    only = api.get(book, {"min_memory_gb": 80, "region": "CITY-SH"}).json()["asks"]
    assert [a["chip"] for a in only] == [H100]
    assert "all_in_price" in only[0]
    by_chip = api.get(book, {"chips": f"{ASCEND},{H100}", "vendors": "Huawei"})
    assert [a["chip"] for a in by_chip.json()["asks"]] == [ASCEND]
    none = api.get(book, {"confidential": "true"}).json()["asks"]
    assert none == []


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"chips": "no-such-chip"}, "chips"),
        ({"certifications": "ISO9001"}, "certifications"),
        ({"min_reliability": "1.5"}, "min_reliability"),
        ({"max_latency_ms": 10}, "max_latency_ms"),
        ({"min_memory": 80}, "min_memory"),
    ],
)
def test_book_when_a_constraint_field_is_wrong_is_a_400_naming_it(
    instrument, params, name
):
    response = client_for().get(
        f"/api/v1/instruments/{instrument.symbol}/book/", params
    )
    assert response.status_code == 400, response.json()
    assert name in error(response)["fields"]


def test_locational_price_when_asks_differ_ignores_buyer_constraints(
    instrument, small_and_large
):
    """Market data stays honest: the locational price is the cheapest ask, whatever
    a buyer might require."""
    body = (
        client_for()
        .get("/api/v1/prices/locational/", {"symbol": instrument.symbol})
        .json()
    )
    guian = next(r for r in body["results"] if r["region"] == "CLU-GUIAN")
    assert guian["price"] == "11.00"


def test_providers_when_listed_carry_their_scores_and_the_method(db):
    steady, newcomer = make_seller(), make_seller()
    ProviderScore.objects.create(
        participant=steady,
        entity=steady.entity,
        reliability=Decimal("0.9500"),
        deliveries=4,
        sold=Decimal("100"),
        delivered=Decimal("100"),
        disputes_lost=1,
    )
    rows = client_for().get("/api/v1/providers/").json()["results"]
    by_code = {r["code"]: r for r in rows}
    assert by_code[steady.entity] | {"score_method": "x"} == {
        "code": steady.entity,
        "reliability": "0.9500",
        "deliveries": 4,
        "delivered_share": "1.0000",
        "disputes_lost": 1,
        "score_method": "x",
    }
    assert by_code[steady.entity]["score_method"].endswith("/providers/")
    assert by_code[newcomer.entity]["reliability"] == "0.9000"
    assert by_code[newcomer.entity]["delivered_share"] is None


def test_clusters_when_listed_carry_declared_verified_and_free_capacity(instrument):
    seller = make_seller(chip=H100, count=10, confidential=True)
    ask(seller, instrument, "12.00", quantity="100.0")
    [cluster] = client_for(seller).get("/api/v1/clusters/").json()["results"]
    assert cluster["verified"] is True
    assert cluster["confidential"] is cluster["verified_confidential"] is True
    assert cluster["awaiting_check"] is False
    window = next(
        w for w in cluster["capacity"] if w["instrument"] == instrument.symbol
    )
    assert Decimal(window["committed"]) >= Decimal("100.0")
    assert Decimal(window["free"]) == Decimal(window["scu_h"]) - Decimal(
        window["committed"]
    )


def test_clusters_when_posted_with_a_declaration_await_verification(db):
    seller = make_seller()
    response = client_for(seller).post(
        "/api/v1/clusters/",
        {
            "name": "tee-pod",
            "region": "CLU-GUIAN",
            "chip": H100,
            "count": 8,
            "confidential": True,
            "certifications": ["MLPS3"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["verified"], body["confidential"]) == (False, True)
    assert body["certifications"] == ["MLPS3"]
    assert body["verified_certifications"] == []


# --- a resting sell's place ----------------------------------------------------------
def test_amend_when_a_sell_loses_priority_takes_the_providers_score_now(instrument):
    """A resting sell keeps the score it was placed with; an amend that keeps its
    place keeps it too; one that loses its place takes the score of now, and a
    book rebuilt from the database or caught up from the events agrees."""
    seller = make_seller(chip=H100)
    placed = ask(seller, instrument, "12.00", quantity="10.0")
    score(seller, "0.9700")
    kept = order_amend(
        participant=seller, order_id=placed["id"], quantity=Decimal("8.0")
    ).order
    assert kept.reliability == Decimal("0.90")
    moved = order_amend(
        participant=seller, order_id=placed["id"], price=Decimal("12.10")
    ).order
    assert moved.reliability == Decimal("0.97")
    warm = books.warm(instrument.symbol).get(placed["id"]).attributes
    assert warm.reliability == Decimal("0.97")
    books.clear()
    instrument.refresh_from_db()
    rebuilt = books.book_checkout(instrument).get(placed["id"]).attributes
    assert rebuilt == warm
    catching_up = engine.Book(books.network_build(instrument))
    catching_up.apply(
        codec.event_from_row(e.kind, e.sequence, e.order_id, e.data)
        for e in OrderEvent.objects.filter(instrument=instrument).order_by("sequence")
    )
    assert catching_up.get(placed["id"]).attributes == warm


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/regions/?limit=5",
        "/api/v1/chips/?limit=5",
        "/api/v1/profiles/?limit=5",
        "/api/v1/instruments/?limit=5",
        "/api/v1/surcharges/?profile=train&limit=5",
        "/api/v1/instruments/{symbol}/book/?depth=5",
        "/api/v1/instruments/{symbol}/trades/?limit=5",
        "/api/v1/instruments/{symbol}/candles/?limit=5",
        "/api/v1/prices/locational/?profile=train",
        "/api/v1/index/?profile=train",
        "/api/v1/forward/?profile=train",
        "/api/v1/advisor/?profile=train&origin=CITY-SH&scu_h=10.0",
        "/api/v1/orders/?limit=5",
        "/api/v1/fills/?limit=5",
        "/api/v1/clusters/?limit=5",
        "/api/v1/account/ledger/?limit=5",
        "/api/v1/deliveries/?limit=5",
        "/api/v1/providers/?limit=5",
    ],
)
def test_list_endpoint_when_a_query_parameter_is_unknown_is_a_400_naming_it(
    url, instrument
):
    """Paged or not, a list never ignores a parameter it does not read (a mistyped
    filter would otherwise answer with everything)."""
    seller = make_seller()
    url = url.format(symbol=instrument.symbol)
    known = client_for(seller).get(url)
    assert known.status_code == 200, known.content
    response = client_for(seller).get(f"{url}&colour=blue")
    assert response.status_code == 400, response.content
    assert error(response)["fields"] == {"colour": ["Unknown query parameter."]}
