"""Market data (public): instruments, books, trades, candles, prices, the index, the
forward curve and the advisor."""

from datetime import datetime
from typing import Any, Literal

from yiwang_client.calls import Call, operation
from yiwang_client.inputs import Certification, Dec
from yiwang_client.models import (
    Advisor,
    Book,
    CandlePage,
    CursorPage,
    Forward,
    Index,
    Instrument,
    Locational,
    Page,
    Trade,
)
from yiwang_client.operations.common import get_call, url_path


class MarketOperations:
    """The market's public data; `_csv` methods give the same rows as CSV."""

    @operation("instruments_list")
    def list_instruments(
        self,
        *,
        profile: str | None = None,
        state: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Call[Page[Instrument]]:
        params = {"profile": profile, "state": state, "limit": limit, "offset": offset}
        return get_call("instruments/", Page[Instrument], **params)

    @operation("instruments_retrieve")
    def get_instrument(self, symbol: str) -> Call[Instrument]:
        return get_call(url_path("instruments/{s}/", s=symbol), Instrument)

    @operation("instruments_book_retrieve")
    def get_book(
        self,
        symbol: str,
        *,
        depth: int | None = None,
        region: str | None = None,
        stacks: list[str] | None = None,
        regions: list[str] | None = None,
        max_latency_ms: int | None = None,
        residency_zone: str | None = None,
        min_green_share: Dec | None = None,
        chips: list[str] | None = None,
        vendors: list[str] | None = None,
        min_memory_gb: int | None = None,
        confidential: bool | None = None,
        certifications: list[Certification] | None = None,
        min_reliability: Dec | None = None,
    ) -> Call[Book]:
        """The aggregated book; with `region` (a buyer's origin) asks carry
        `all_in_price`; the constraint parameters filter the asks."""
        params = dict(locals())
        del params["self"], params["symbol"]
        return get_call(url_path("instruments/{s}/book/", s=symbol), Book, **params)

    @operation("instruments_trades_list", fixed={"format": "json"})
    def list_trades(
        self, symbol: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Call[CursorPage[Trade]]:
        path = url_path("instruments/{s}/trades/", s=symbol)
        return get_call(
            path, CursorPage[Trade], cursor=cursor, limit=limit, format="json"
        )

    @operation("instruments_trades_list", fixed={"format": "csv"})
    def list_trades_csv(
        self, symbol: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Call[str]:
        path = url_path("instruments/{s}/trades/", s=symbol)
        return get_call(path, None, cursor=cursor, limit=limit, format="csv")

    @operation("instruments_candles_retrieve", fixed={"format": "json"})
    def get_candles(
        self,
        symbol: str,
        *,
        interval: Literal["1m", "1h", "1d"] | None = None,
        from_: datetime | None = None,
        to: datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Call[CandlePage]:
        return _candles(symbol, CandlePage, "json", interval, from_, to, cursor, limit)

    @operation("instruments_candles_retrieve", fixed={"format": "csv"})
    def get_candles_csv(
        self,
        symbol: str,
        *,
        interval: Literal["1m", "1h", "1d"] | None = None,
        from_: datetime | None = None,
        to: datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Call[str]:
        return _candles(symbol, None, "csv", interval, from_, to, cursor, limit)

    @operation("prices_locational_retrieve")
    def get_locational_prices(
        self,
        *,
        profile: str | None = None,
        symbol: str | None = None,
        stack: str | None = None,
    ) -> Call[Locational]:
        params = {"profile": profile, "symbol": symbol, "stack": stack}
        return get_call("prices/locational/", Locational, **params)

    @operation("index_retrieve", fixed={"format": "json"})
    def get_index(self, *, profile: str, days: int | None = None) -> Call[Index]:
        return get_call("index/", Index, profile=profile, days=days, format="json")

    @operation("index_retrieve", fixed={"format": "csv"})
    def get_index_csv(self, *, profile: str, days: int | None = None) -> Call[str]:
        return get_call("index/", None, profile=profile, days=days, format="csv")

    @operation("forward_retrieve")
    def get_forward(self, *, profile: str) -> Call[Forward]:
        return get_call("forward/", Forward, profile=profile)

    @operation("advisor_retrieve")
    def get_advisor(
        self,
        *,
        profile: str,
        origin: str,
        scu_h: Dec,
        data_gb: Dec | None = None,
        earliest: datetime | None = None,
        deadline: datetime | None = None,
        split: bool | None = None,
    ) -> Call[Advisor]:
        params = dict(locals())
        del params["self"]
        return get_call("advisor/", Advisor, **params)


def _candles(
    symbol: str,
    model: Any,
    fmt: str,
    interval: str | None,
    from_: datetime | None,
    to: datetime | None,
    cursor: str | None,
    limit: int | None,
) -> Call[Any]:
    path = url_path("instruments/{s}/candles/", s=symbol)
    params = {"interval": interval, "from": from_, "to": to}
    return get_call(path, model, **params, cursor=cursor, limit=limit, format=fmt)
