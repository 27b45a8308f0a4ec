"""Candles kept incrementally: folding trades beyond the watermark (in any chunks,
any number of times) leaves the same candles as a brute-force recomputation from the
trades; reads are fresh before any fold runs and never count a trade twice; the
sweep and the hook after placement fold what is new."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from rest_framework.test import APIClient

from exchange.marketdata import bars as b
from exchange.marketdata.candles import candle_list, trade_figures
from exchange.marketdata.fold import candles_fold, candles_sweep
from exchange.models import Candle, CandleWatermark, Trade
from exchange.services.placement import order_place
from exchange.services.requests import OrderRequest
from tests.exchange.conftest import make_buyer, make_instrument, make_seller
from tests.marketdata import brute
from tests.marketdata.conftest import Market

pytestmark = pytest.mark.django_db

trade_rows = st.lists(
    st.tuples(
        st.integers(0, 3 * 86400),  # seconds after the start
        st.integers(900, 1500).map(lambda c: Decimal(c) / 100),
        st.integers(1, 500).map(lambda q: Decimal(q) / 10),
    ),
    min_size=1,
    max_size=40,
)


def stored(instrument, interval: str) -> dict:
    return {
        c.start.astimezone(UTC): {n: getattr(c, n) for n in brute.FIELDS}
        for c in Candle.objects.filter(instrument=instrument, interval=interval)
    }


def read(instrument, interval: str, limit: int = 1000) -> dict:
    """What a reader sees, as brute-force-comparable dicts (no notional or
    sequences in a page: compare the rest)."""
    page, _older = candle_list(instrument=instrument, interval=interval, limit=limit)
    return {c["start"].astimezone(UTC): c for c in page}


def expected_page(trades, interval: str) -> dict:
    fields = ("open", "high", "low", "close", "volume", "trades")
    return {
        start: {n: bar[n] for n in fields}
        for start, bar in brute.candles(trades, interval).items()
    }


def page_view(page: dict) -> dict:
    fields = ("open", "high", "low", "close", "volume", "trades")
    return {start: {n: c[n] for n in fields} for start, c in page.items()}


class TestFoldEqualsBruteForce(TestCase):
    @settings(max_examples=25)
    @given(rows=trade_rows, more=trade_rows, batch=st.integers(1, 50))
    def test_fold_then_more_trades(self, rows, more, batch):
        """Candles folded in batches, then more trades (read fresh before their
        fold), then folded again and again: always the brute-force candles."""
        market = Market()
        trades = market.trades(rows)
        candles_fold(instrument_id=market.instrument.pk, batch=batch)
        trades += market.trades(more)
        for interval in b.INTERVALS:
            assert page_view(read(market.instrument, interval)) == expected_page(
                trades, interval
            )
        candles_fold(instrument_id=market.instrument.pk, batch=batch)
        candles_fold(instrument_id=market.instrument.pk, batch=batch)
        for interval in b.INTERVALS:
            assert stored(market.instrument, interval) == brute.candles(
                trades, interval
            )
            assert page_view(read(market.instrument, interval)) == expected_page(
                trades, interval
            )


def test_fold_is_idempotent(market):
    """A second fold finds nothing beyond the watermark and changes nothing."""
    market.trades([(0, "12.00", "1.0"), (30, "12.50", "2.0"), (4000, "11.00", "1.5")])
    assert candles_fold(instrument_id=market.instrument.pk) == 3
    before = {i: stored(market.instrument, i) for i in b.INTERVALS}
    assert candles_fold(instrument_id=market.instrument.pk) == 0
    assert {i: stored(market.instrument, i) for i in b.INTERVALS} == before
    watermark = CandleWatermark.objects.get(instrument=market.instrument)
    assert watermark.sequence == Trade.objects.order_by("-sequence")[0].sequence


def test_read_is_fresh_before_any_fold(market):
    """Trades nobody folded yet are in the candles a reader gets."""
    trades = market.trades([(0, "12.00", "1.0"), (10, "13.00", "1.0")])
    assert not Candle.objects.exists()
    [candle] = read(market.instrument, "1d").values()
    assert (candle["open"], candle["close"], candle["trades"]) == (
        Decimal("12.00"),
        Decimal("13.00"),
        2,
    )
    assert candle["vwap"] == Decimal("12.5000")
    assert page_view(read(market.instrument, "1m")) == expected_page(trades, "1m")


def test_read_with_a_stale_watermark_counts_nothing_twice(market):
    """A reader that read the watermark just before a fold committed sees the
    folded candles and those same trades beyond its stale watermark: each candle's
    last_sequence tells it which it already holds."""
    trades = market.trades([(0, "12.00", "1.0"), (5, "12.40", "1.0")])
    candles_fold(instrument_id=market.instrument.pk)
    trades += market.trades([(8, "12.20", "2.0")])
    CandleWatermark.objects.filter(instrument=market.instrument).update(sequence=0)
    for interval in b.INTERVALS:
        assert page_view(read(market.instrument, interval)) == expected_page(
            trades, interval
        )


def test_pages_go_back_through_history_with_the_cursor(market):
    """Newest first; each page's cursor leads to the next older one, with the
    trades beyond the watermark folded in where they belong."""
    start = datetime(2026, 1, 5, 9, 0, tzinfo=b.SHANGHAI)
    trades = market.trades([(60 * i, "12.00", "1.0") for i in range(7)], start=start)
    candles_fold(instrument_id=market.instrument.pk)
    trades += market.trades([(60 * 7, "12.10", "1.0")], start=start)
    api = APIClient()
    url = f"/api/v1/instruments/{market.instrument.symbol}/candles/"
    seen, page = [], api.get(url, {"interval": "1m", "limit": 3}).json()
    while True:
        seen += [c["start"] for c in page["results"]]
        if page["next"] is None:
            break
        page = api.get(page["next"]).json()
    expected = sorted(brute.candles(trades, "1m"), reverse=True)
    assert [datetime.fromisoformat(s) for s in seen] == expected
    assert seen[0].endswith("+08:00")


def test_from_and_to_select_candles_by_start(market):
    start = datetime(2026, 1, 5, 9, 0, tzinfo=b.SHANGHAI)
    market.trades([(0, "12.00", "1.0"), (3600, "12.00", "1.0")], start=start)
    candles_fold(instrument_id=market.instrument.pk)
    page, older = candle_list(
        instrument=market.instrument,
        interval="1h",
        start=start + timedelta(minutes=30),
        end=start + timedelta(hours=2),
    )
    assert [c["start"] for c in page] == [start + timedelta(hours=1)]
    assert older is None


def test_sweep_folds_every_instrument_behind(market):
    """The beat sweep folds what no hook asked for, and then nothing."""
    other = Market()
    market.trades([(0, "12.00", "1.0")])
    other.trades([(0, "11.00", "1.0"), (1, "11.50", "1.0")])
    done = candles_sweep()
    assert done == {market.instrument.symbol: 1, other.instrument.symbol: 2}
    assert candles_sweep() == {}
    assert (
        Candle.objects.filter(instrument=other.instrument, interval="1d").get().trades
        == 2
    )


def test_vwap_and_volume_per_instrument(market):
    """The instrument's figures: from day candles plus unfolded trades."""
    market.trades([(0, "12.00", "3.0"), (90000, "13.00", "1.0")])
    candles_fold(instrument_id=market.instrument.pk)
    market.trades([(90010, "14.00", "1.0")])
    figures = trade_figures([market.instrument])[market.instrument.pk]
    assert figures.volume == Decimal("5.0")
    assert figures.trades == 3
    assert figures.vwap == Decimal("12.6000")  # (36 + 13 + 14) / 5
    assert figures.first_price == Decimal("12.00")
    body = APIClient().get(f"/api/v1/instruments/{market.instrument.symbol}/").json()
    assert (body["vwap"], body["volume"]) == ("12.6000", "5.0")
    listed = APIClient().get("/api/v1/instruments/").json()["results"]
    assert {i["symbol"]: i["vwap"] for i in listed}[market.instrument.symbol] == (
        "12.6000"
    )


def test_placement_folds_its_fills_after_commit(django_capture_on_commit_callbacks):
    """An order that trades enqueues the fold on commit (Celery runs eagerly in
    tests): the candles are stored without waiting for the sweep."""
    instrument = make_instrument()
    seller = make_seller()
    buyer = make_buyer()
    for who, side in ((seller, "sell"), (buyer, "buy")):
        request = OrderRequest(
            instrument=instrument.symbol,
            side=side,
            quantity=Decimal("2.0"),
            price=Decimal("12.00") if side == "sell" else Decimal("14.00"),
            cluster=seller.cluster.pk if side == "sell" else None,
        )
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            placed = order_place(participant=who, request=request)
    assert len(placed.fills) == 1
    # One fold per transaction (beside it, the streams' wake-up when Redis is set).
    assert sum("candles_fold" in repr(c) for c in callbacks) == 1
    candle = Candle.objects.get(instrument=instrument, interval="1d")
    assert (candle.volume, candle.trades) == (Decimal("2.0"), 1)
    assert CandleWatermark.objects.get(instrument=instrument).sequence == (
        placed.fills[0].sequence
    )
