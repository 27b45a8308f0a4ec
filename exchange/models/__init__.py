"""The exchange's models: the books' (instruments, orders, trades, the event log) and
the market data derived from them (candles, the index, carbon footprints)."""

from exchange.models.listing import ListingPlan
from exchange.models.marketdata import Candle, CandleWatermark, IndexValue, TradeCarbon
from exchange.models.trading import (
    ClusterCommitment,
    Instrument,
    Order,
    OrderEvent,
    Trade,
)

__all__ = [
    "Candle",
    "CandleWatermark",
    "ClusterCommitment",
    "IndexValue",
    "Instrument",
    "ListingPlan",
    "Order",
    "OrderEvent",
    "Trade",
    "TradeCarbon",
]
