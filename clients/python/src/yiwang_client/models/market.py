"""Market data: instruments, books, trades, candles, prices, index, forward curve
and the advisor's plans."""

from datetime import date, datetime
from decimal import Decimal

from yiwang_client.models.common import (
    Basis,
    ForwardProduct,
    InstrumentState,
    Product,
    Side,
    model,
)


@model
class Instrument:
    symbol: str
    profile: str
    product: Product | None = None
    block: str | None = None
    delivery_start: datetime
    delivery_end: datetime
    gate_closure_at: datetime
    state: InstrumentState | None = None
    tick_size: Decimal | None = None
    lot_size: Decimal | None = None
    price_band_pct: Decimal | None = None
    opening_price: Decimal | None = None
    reference_price: Decimal | None = None
    bond_rate: Decimal | None = None
    maker_fee_bps: int | None = None
    taker_fee_bps: int | None = None
    conversion_version: int
    surcharge_version: int
    last_price: Decimal | None = None
    settlement_price: Decimal | None = None
    best_bid: Decimal | None
    best_ask: Decimal | None
    volume: Decimal
    vwap: Decimal | None


@model
class AskLevel:
    price: Decimal
    quantity: Decimal
    region: str
    stack: str
    chip: str
    confidential: bool
    certifications: list[str]
    reliability: Decimal | None
    all_in_price: Decimal | None = None


@model
class BidLevel:
    price: Decimal
    quantity: Decimal
    region: str


@model
class Book:
    instrument: str
    sequence: int
    region: str | None
    asks: list[AskLevel]
    bids: list[BidLevel]


@model
class Trade:
    id: int
    price: Decimal
    all_in_price: Decimal
    quantity: Decimal
    sell_region: str
    buy_region: str
    aggressor: Side
    executed_at: datetime


@model
class Candle:
    start: datetime
    end: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int
    vwap: Decimal


@model
class CandlePage:
    next: str | None
    previous: str | None
    results: list[Candle]


@model
class LocationalPrice:
    region: str
    price: Decimal | None
    source_region: str | None
    surcharge: Decimal | None
    local_price: Decimal | None
    spread: Decimal | None


@model
class Locational:
    instrument: str
    stack: str | None
    results: list[LocationalPrice]


@model
class IndexPoint:
    date: date
    index: Decimal
    volume: Decimal
    trades: int
    trimmed: int
    provisional: bool


@model
class Index:
    profile: str
    results: list[IndexPoint]


@model
class ForwardPoint:
    symbol: str
    product: ForwardProduct
    block: str | None
    delivery_start: datetime
    delivery_end: datetime
    last_price: Decimal | None
    mid: Decimal | None
    settlement_price: Decimal | None
    volume: Decimal
    price: Decimal | None
    basis: Basis


@model
class Forward:
    profile: str
    results: list[ForwardPoint]


@model
class Leg:
    region: str
    symbol: str
    quantity: Decimal
    price: Decimal
    surcharge: Decimal
    all_in_price: Decimal


@model
class Plan:
    legs: list[Leg]
    all_in_cost: Decimal
    network_cost: Decimal
    energy_kwh: Decimal | None
    electricity_cost: Decimal | None
    carbon_kg: Decimal | None
    latency_ms: Decimal
    data_gb: Decimal
    tariff_data_gb: Decimal


@model
class Advisor:
    results: list[Plan]
    home: Plan | None
