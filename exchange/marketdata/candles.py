"""Reads of candles and of per-instrument trade figures (volume, VWAP), from the
stored candles plus the trades beyond the watermark, folded on the fly: an answer is
never staler than the last committed trade, however late the fold runs.

Read order matters, and no lock is taken: the watermark first, then the candles, then
the trades beyond that watermark. A fold may commit in between; a trade a stored
candle already holds is then recognised by the candle's `last_sequence` and skipped
(bars.fold), so nothing is counted twice.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q

from exchange.marketdata import bars as b
from exchange.marketdata.fold import CANDLE_VALUES
from exchange.models import Candle, CandleWatermark, Instrument, Trade


def _watermarks(instrument_ids: list[int]) -> dict[int, int]:
    return dict(
        CandleWatermark.objects.filter(instrument_id__in=instrument_ids).values_list(
            "instrument_id", "sequence"
        )
    )


def _pending(watermarks: dict[int, int], instrument_ids: list[int]) -> dict:
    """The trades beyond each instrument's watermark, as prints in sequence order."""
    if not instrument_ids:
        return {}
    beyond = Q()
    for instrument_id in instrument_ids:
        beyond |= Q(
            instrument_id=instrument_id,
            sequence__gt=watermarks.get(instrument_id, 0),
        )
    out: dict[int, list[b.Print]] = {i: [] for i in instrument_ids}
    rows = (
        Trade.objects.filter(beyond)
        .order_by("instrument_id", "sequence")
        .values_list("instrument_id", "sequence", "executed_at", "price", "quantity")
    )
    for instrument_id, *fields in rows:
        out[instrument_id].append(b.Print(*fields))
    return out


def _bar(row: tuple) -> b.Bar:
    """From (start, *CANDLE_VALUES)."""
    return b.Bar(row[0].astimezone(b.SHANGHAI), *row[1:])


def candle_list(
    *,
    instrument: Instrument,
    interval: str,
    start: datetime | None = None,
    end: datetime | None = None,
    before: datetime | None = None,
    limit: int = 100,
) -> tuple[list[dict], datetime | None]:
    """OHLCV candles newest first: those starting in [start, end) and before
    `before`, at most `limit`. Returns them and the `before` of the next (older)
    page, or None when this page is the last."""

    def in_range(at: datetime) -> bool:
        return (
            (start is None or at >= start)
            and (end is None or at < end)
            and (before is None or at < before)
        )

    watermarks = _watermarks([instrument.pk])
    stored = Candle.objects.filter(instrument=instrument, interval=interval)
    if start is not None:
        stored = stored.filter(start__gte=start)
    if end is not None:
        stored = stored.filter(start__lt=end)
    if before is not None:
        stored = stored.filter(start__lt=before)
    rows = stored.order_by("-start").values_list("start", *CANDLE_VALUES)
    bars = {bar.start: bar for bar in map(_bar, rows[: limit + 1])}
    pending = _pending(watermarks, [instrument.pk])[instrument.pk]
    b.fold(
        bars,
        (p for p in pending if in_range(b.bucket_start(p.executed_at, interval))),
        interval,
    )
    ordered = sorted(bars.values(), key=lambda bar: bar.start, reverse=True)
    page = [_candle(bar, interval) for bar in ordered[:limit]]
    return page, (page[-1]["start"] if len(ordered) > limit else None)


def _candle(bar: b.Bar, interval: str) -> dict:
    return {
        "start": bar.start,
        "end": bar.start + b.WIDTHS[interval],
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
        "trades": bar.trades,
        "vwap": bar.vwap,
    }


@dataclass(frozen=True, slots=True)
class TradeFigures:
    """An instrument's trading so far: from its day candles and any newer trades."""

    volume: Decimal
    notional: Decimal
    trades: int
    first_price: Decimal | None

    @property
    def vwap(self) -> Decimal | None:
        return b.vwap(self.notional, self.volume)


NO_TRADES = TradeFigures(Decimal("0.0"), Decimal("0.0000"), 0, None)


def trade_figures(instruments: list[Instrument]) -> dict[int, TradeFigures]:
    """Per instrument: volume, notional (so VWAP), trade count and the first
    trade's price. Three queries for the whole list."""
    ids = [i.pk for i in instruments]
    watermarks = _watermarks(ids)
    days: dict[int, dict] = {i: {} for i in ids}
    rows = Candle.objects.filter(instrument_id__in=ids, interval="1d").values_list(
        "instrument_id", "start", *CANDLE_VALUES
    )
    for instrument_id, *row in rows:
        bar = _bar(row)
        days[instrument_id][bar.start] = bar
    pending = _pending(watermarks, ids)
    out = {}
    for instrument_id in ids:
        bars = days[instrument_id]
        b.fold(bars, pending[instrument_id], "1d")
        if not bars:
            out[instrument_id] = NO_TRADES
            continue
        volume, notional, trades = b.totals(bars.values())
        first = min(bars.values(), key=lambda bar: bar.first_sequence)
        out[instrument_id] = TradeFigures(volume, notional, trades, first.open)
    return out
