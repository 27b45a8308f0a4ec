"""Public market data over REST: instruments, the aggregated book (with all-in prices
into a buyer's origin), trades with cursor pagination, candles, locational prices
and the index."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from exchange.marketdata.index import trimmed
from market.models import Surcharge
from tests.apiclient import error
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def s(instrument, sell, buy) -> Decimal:
    return Surcharge.objects.get(
        table=instrument.surcharge_table, sell_region__code=sell, buy_region__code=buy
    ).surcharge


def test_instruments_list_filters_by_profile_and_state(api):
    train = make_instrument()
    make_instrument(profile="infer", opening="9.00")
    body = api.get("/api/v1/instruments/", {"profile": "train"}).json()
    assert [i["symbol"] for i in body["results"]] == [train.symbol]
    row = body["results"][0]
    assert row["state"] == "open"
    assert (row["tick_size"], row["lot_size"]) == ("0.01", "0.1")
    assert row["conversion_version"] == 1
    assert api.get("/api/v1/instruments/", {"state": "settled"}).json()["count"] == 0
    assert api.get("/api/v1/instruments/", {"profile": "nope"}).status_code == 400
    assert api.get("/api/v1/instruments/", {"state": "gone"}).status_code == 400


def test_unknown_instrument_is_404(api):
    for url in ["", "book/", "trades/", "candles/"]:
        response = api.get(f"/api/v1/instruments/NOPE-1/{url}")
        assert response.status_code == 404
        assert error(response)["code"] == "not_found"


def test_book_aggregates_levels_and_prices_asks_into_a_region(api, instrument):
    guian = make_seller("CLU-GUIAN", "huawei-ascend-910b")
    wuhu = make_seller("CLU-WUHU", "nvidia-h100-sxm-80gb")
    place(guian, instrument, "sell", "10.0", "11.00")
    place(guian, instrument, "sell", "5.0", "11.00")
    place(wuhu, instrument, "sell", "7.0", "11.40")
    place(wuhu, instrument, "sell", "7.0", "12.50")
    buyer = make_buyer("CITY-SH")
    place(buyer, instrument, "buy", "3.0", "10.00")
    plain = api.get(f"/api/v1/instruments/{instrument.symbol}/book/").json()
    assert plain["asks"][0] == {
        "price": "11.00",
        "quantity": "15.0",
        "region": "CLU-GUIAN",
        "stack": "CANN",
        "chip": "huawei-ascend-910b",
        "confidential": False,
        "certifications": [],
        "reliability": "0.90",  # a provider with no history stands at the prior
    }
    assert plain["bids"] == [{"price": "10.00", "quantity": "3.0", "region": "CITY-SH"}]
    priced = api.get(
        f"/api/v1/instruments/{instrument.symbol}/book/",
        {"region": "CITY-SH", "depth": 2},
    ).json()
    expected = sorted(
        [
            (Decimal("11.00") + s(instrument, "CLU-GUIAN", "CITY-SH"), "CLU-GUIAN"),
            (Decimal("11.40") + s(instrument, "CLU-WUHU", "CITY-SH"), "CLU-WUHU"),
            (Decimal("12.50") + s(instrument, "CLU-WUHU", "CITY-SH"), "CLU-WUHU"),
        ]
    )[:2]
    assert [(Decimal(a["all_in_price"]), a["region"]) for a in priced["asks"]] == (
        expected
    )
    assert priced["region"] == "CITY-SH"


@pytest.mark.parametrize(
    "query", ["depth=0", "depth=501", "depth=x", "region=NOWHERE", "region=a%20b"]
)
def test_book_bad_query_is_400(api, instrument, query):
    url = f"/api/v1/instruments/{instrument.symbol}/book/?{query}"
    assert api.get(url).status_code == 400


def _trade(instrument, price, quantity="1.0"):
    seller = make_seller("CITY-SH", "nvidia-a100-80gb-sxm")
    buyer = make_buyer("CITY-SH")
    place(seller, instrument, "sell", quantity, price)
    return place(buyer, instrument, "buy", quantity, price).fills[0]


def test_trades_newest_first_with_cursor_pages(api, instrument):
    trades = [_trade(instrument, p) for p in ("12.00", "12.10", "12.20")]
    url = f"/api/v1/instruments/{instrument.symbol}/trades/"
    page = api.get(url, {"limit": 2}).json()
    assert [t["id"] for t in page["results"]] == [trades[2].pk, trades[1].pk]
    assert set(page["results"][0]) == {
        "id",
        "price",
        "all_in_price",
        "quantity",
        "sell_region",
        "buy_region",
        "aggressor",
        "executed_at",
    }
    assert page["results"][0]["aggressor"] == "buy"
    rest = api.get(page["next"]).json()
    assert [t["id"] for t in rest["results"]] == [trades[0].pk]
    assert rest["next"] is None


@pytest.mark.parametrize("cursor", ["cD1hYmM=", "cD0xAA==", "\u00e9t\u00e9", "cj14"])
def test_bad_cursor_is_400(api, instrument, cursor):
    url = f"/api/v1/instruments/{instrument.symbol}/trades/"
    response = api.get(url, {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in error(response)["fields"]


def test_candles_ohlcv(api, instrument):
    for price in ("12.00", "12.50", "11.80", "12.20"):
        _trade(instrument, price, "2.0")
    url = f"/api/v1/instruments/{instrument.symbol}/candles/"
    [candle] = api.get(url, {"interval": "1d"}).json()["results"]
    assert (candle["open"], candle["high"], candle["low"], candle["close"]) == (
        "12.00",
        "12.50",
        "11.80",
        "12.20",
    )
    assert (candle["volume"], candle["trades"]) == ("8.0", 4)
    assert candle["start"].endswith("+08:00")
    assert api.get(url, {"interval": "5m"}).status_code == 400
    bad_range = {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    assert api.get(url, bad_range).status_code == 400
    assert api.get(url, {"limit": 1001}).status_code == 400


def test_candle_pages_go_back_in_time(api, instrument):
    _trade(instrument, "12.00")
    url = f"/api/v1/instruments/{instrument.symbol}/candles/"
    page = api.get(url, {"interval": "1m", "limit": 1}).json()
    assert len(page["results"]) == 1
    assert page["next"] is None


def test_locational_prices_least_ask_plus_surcharge(api, instrument):
    guian = make_seller("CLU-GUIAN", "huawei-ascend-910b")
    local = make_seller("CITY-SH", "nvidia-a100-80gb-sxm")
    place(guian, instrument, "sell", "10.0", "10.00")
    place(local, instrument, "sell", "10.0", "12.00")
    body = api.get("/api/v1/prices/locational/", {"symbol": instrument.symbol}).json()
    rows = {r["region"]: r for r in body["results"]}
    into_sh = min(
        Decimal("10.00") + s(instrument, "CLU-GUIAN", "CITY-SH"), Decimal("12.00")
    )
    assert Decimal(rows["CITY-SH"]["price"]) == into_sh
    assert rows["CITY-SH"]["local_price"] == "12.00"
    assert Decimal(rows["CITY-SH"]["spread"]) == Decimal("12.00") - into_sh
    assert rows["CLU-GUIAN"]["price"] == "10.00"
    assert rows["CLU-GUIAN"]["source_region"] == "CLU-GUIAN"
    by_profile = api.get("/api/v1/prices/locational/", {"profile": "train"}).json()
    assert by_profile["instrument"] == instrument.symbol
    cann = api.get(
        "/api/v1/prices/locational/", {"symbol": instrument.symbol, "stack": "CUDA"}
    ).json()
    assert {r["region"]: r for r in cann["results"]}["CLU-GUIAN"]["local_price"] is None
    assert api.get("/api/v1/prices/locational/").status_code == 400


def test_index_is_daily_vwap(api, instrument):
    _trade(instrument, "12.00", "3.0")
    _trade(instrument, "13.00", "1.0")
    body = api.get("/api/v1/index/", {"profile": "train"}).json()
    [day] = body["results"]
    assert day["index"] == "12.2500"
    assert (day["volume"], day["trades"], day["trimmed"]) == ("4.0", 2, 0)
    assert api.get("/api/v1/index/", {"profile": "nope"}).status_code == 400
    assert api.get("/api/v1/index/", {"profile": "train", "days": 0}).status_code == 400


def test_index_trims_outliers_beyond_three_mad():
    prices = [Decimal(p) for p in ("10.0", "10.2", "9.8", "10.1", "9.9", "30.0")]
    kept = trimmed([(p, Decimal(1)) for p in prices])
    assert Decimal("30.0") not in [p for p, _q in kept]
    assert len(kept) == 5


def test_nul_in_query_is_invalid_character(api, instrument):
    response = api.get(f"/api/v1/instruments/{instrument.symbol}/book/?region=A%00")
    assert response.status_code == 400
    assert error(response)["code"] == "invalid_character"
