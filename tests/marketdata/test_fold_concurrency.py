"""Folds of one instrument at the same time, on PostgreSQL: they queue on the
watermark row, so each trade is folded exactly once, whoever gets there first (the
watermark is created by whichever fold comes first, without a duplicate-key error)."""

import threading

import pytest
from django.db import close_old_connections

from exchange.marketdata import bars as b
from exchange.marketdata.fold import candles_fold
from exchange.models import Candle, CandleWatermark, TradeCarbon
from tests.marketdata import brute
from tests.marketdata.conftest import Market

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_folds_at_once_fold_each_trade_once(catalogue):
    market = Market()
    trades = market.trades(
        [(37 * i, f"{11 + (i % 7) / 4:.2f}", f"{1 + i % 5}.0") for i in range(600)]
    )
    barrier = threading.Barrier(2)
    folded, errors = [], []

    def fold():
        try:
            barrier.wait(timeout=30)
            # Small batches: the two folds interleave batch by batch.
            folded.append(candles_fold(instrument_id=market.instrument.pk, batch=50))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=fold) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sum(folded) == len(trades)
    assert CandleWatermark.objects.get().sequence == trades[-1].sequence
    assert TradeCarbon.objects.count() == len(trades)
    for interval in b.INTERVALS:
        got = {
            c.start: {n: getattr(c, n) for n in brute.FIELDS}
            for c in Candle.objects.filter(interval=interval)
        }
        assert got == brute.candles(trades, interval)
