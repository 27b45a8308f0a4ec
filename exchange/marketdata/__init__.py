"""Published price signals and what trades weigh: OHLCV candles and VWAP per
instrument (folded incrementally from trades), the daily index per profile, locational
prices per region, and the carbon footprint of each trade.

- `bars`: the pure arithmetic of candles (no Django).
- `models`: Candle and its per-instrument watermark, IndexValue, TradeCarbon.
- `fold`: the services that fold new trades into candles (and footprints).
- `candles`: candle pages and per-instrument figures, never stale.
- `index`, `locational`, `carbon`: the other signals.
"""
