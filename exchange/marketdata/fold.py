"""Folding trades into candles: the writes of market data.

`candles_fold` is an entry point per instrument. Each of its transactions locks the
instrument's watermark row (created on first use), reads the trades beyond it in
sequence order, folds them into the 1m, 1h and 1d candles they fall in, stores their
carbon footprints, and moves the watermark past them: all or nothing. Two folds of one
instrument queue on the watermark lock, and the second finds nothing left to do, so a
fold may run any number of times, at once or late. Order placement never waits for
it: the lock is not the instrument's.

Trades of an instrument commit in sequence order (each is written under the
instrument's lock), so the trades beyond the watermark are always a contiguous tail.
"""

import logging

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Coalesce

from exchange.marketdata import bars as b
from exchange.marketdata.carbon import footprints_compute
from exchange.models import Candle, CandleWatermark, Instrument, Trade, TradeCarbon

FOLD_BATCH = 5000
CANDLE_VALUES = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "notional",
    "trades",
    "first_sequence",
    "last_sequence",
)
log = logging.getLogger(__name__)


def candles_fold(*, instrument_id: int, batch: int = FOLD_BATCH) -> int:
    """Entry point: fold every trade of the instrument beyond its watermark, at most
    `batch` per durable transaction. Returns how many trades it folded."""
    folded = 0
    while True:
        with transaction.atomic(durable=True):
            count = candles_fold_batch(instrument_id=instrument_id, batch=batch)
        folded += count
        if count < batch:
            return folded


def candles_fold_batch(*, instrument_id: int, batch: int) -> int:
    """Fold the next `batch` trades beyond the watermark, under its lock (taken
    here: the caller provides the transaction)."""
    watermark = watermark_for_update(instrument_id)
    rows = list(
        Trade.objects.filter(
            instrument_id=instrument_id, sequence__gt=watermark.sequence
        )
        .order_by("sequence")
        .values_list("sequence", "executed_at", "price", "quantity")[:batch]
    )
    if not rows:
        return 0
    prints = [b.Print(*row) for row in rows]
    for interval in b.INTERVALS:
        _fold_interval(instrument_id, interval, prints)
    folded = Trade.objects.filter(
        instrument_id=instrument_id,
        sequence__gt=watermark.sequence,
        sequence__lte=prints[-1].sequence,
    )
    TradeCarbon.objects.bulk_create(footprints_compute(folded), ignore_conflicts=True)
    watermark.sequence = prints[-1].sequence
    watermark.save(update_fields=["sequence", "updated_at"])
    return len(rows)


def watermark_for_update(instrument_id: int) -> CandleWatermark:
    """Lock the instrument's watermark, creating it at 0 the first time (a concurrent
    creator makes this insert wait, then do nothing)."""
    CandleWatermark.objects.bulk_create(
        [CandleWatermark(instrument_id=instrument_id)], ignore_conflicts=True
    )
    return CandleWatermark.objects.select_for_update().get(pk=instrument_id)


def _fold_interval(instrument_id: int, interval: str, prints: list[b.Print]) -> None:
    starts = {b.bucket_start(p.executed_at, interval) for p in prints}
    stored = {
        c.start.astimezone(b.SHANGHAI): c
        for c in Candle.objects.filter(
            instrument_id=instrument_id, interval=interval, start__in=starts
        )
    }
    bars = {start: bar_of(c) for start, c in stored.items()}
    touched = b.fold(bars, prints, interval)
    created: list[Candle] = []
    changed: list[Candle] = []
    for start in touched:
        candle = stored.get(start) or Candle(
            instrument_id=instrument_id, interval=interval, start=start
        )
        for name in CANDLE_VALUES:
            setattr(candle, name, getattr(bars[start], name))
        (changed if candle.pk else created).append(candle)
    Candle.objects.bulk_create(created)
    Candle.objects.bulk_update(changed, CANDLE_VALUES, batch_size=500)


def bar_of(candle: Candle) -> b.Bar:
    return b.Bar(
        start=candle.start.astimezone(b.SHANGHAI),
        **{name: getattr(candle, name) for name in CANDLE_VALUES},
    )


def candles_sweep() -> dict[str, int]:
    """Entry point of the beat safety net: fold every instrument that has trades
    beyond its watermark (the fold enqueued after a commit may never have run)."""
    behind = (
        Instrument.objects.annotate(folded=Coalesce(F("candle_watermark__sequence"), 0))
        .filter(
            Exists(
                Trade.objects.filter(
                    instrument_id=OuterRef("pk"), sequence__gt=OuterRef("folded")
                )
            )
        )
        .order_by("pk")
        .values_list("pk", "symbol")
    )
    done = {symbol: candles_fold(instrument_id=pk) for pk, symbol in behind}
    if done:
        log.info("candle sweep folded %s", done)
    return done
