"""Public market data: instruments, the aggregated book, trades, candles, locational
prices and the index. Anyone may read them; bots send their key and are then
throttled per key. Thin: parse with a query serializer, read with a selector."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from exchange import eligibility, selectors
from exchange.api import market_serializers as s
from exchange.api.downloads import (
    CSV_BODY,
    CSV_CANDLES,
    CSV_INDEX,
    CSV_TRADES,
    CsvDownload,
    json_errors,
)
from exchange.api.serializers import EXAMPLE_SYMBOL
from exchange.exceptions import InvalidOrder
from exchange.marketdata import candles, index, locational
from exchange.models import Instrument
from exchange.services.constraints import constraints_resolve
from market.api.pagination import CursorPagination
from market.api.query import (
    known_query,
    parse_query,
    parse_whole_query,
    refuse_unknown_query,
)
from market.api.schema import errors
from market.models import Region, WorkloadProfile

PUBLIC_ERRORS = errors(400, 401, 429)
SYMBOL = OpenApiParameter(
    "symbol",
    str,
    OpenApiParameter.PATH,
    required=True,
    pattern=r"^[A-Za-z0-9._-]{1,64}$",
    examples=[OpenApiExample("An instrument", value=EXAMPLE_SYMBOL)],
    description="The instrument's symbol.",
)


def _known(model, field: str, code: str):
    row = model.objects.filter(code=code).first()
    if row is None:
        raise ValidationError({field: [f"Unknown {field} {code!r}."]})
    return row


@extend_schema(
    parameters=[s.InstrumentQuery],
    responses={200: s.InstrumentOutput(many=True), **PUBLIC_ERRORS},
)
class InstrumentListApi(generics.ListAPIView):
    """Instruments, by delivery start; filter by profile and state."""

    serializer_class = s.InstrumentOutput
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Instrument.objects.none()
        query = parse_query(s.InstrumentQuery, self.request)
        if "profile" in query:
            _known(WorkloadProfile, "profile", query["profile"])
        return selectors.instrument_list(**query)


class InstrumentDetailApi(APIView):
    @extend_schema(
        parameters=[SYMBOL],
        responses={200: s.InstrumentOutput, **errors(400, 401, 404, 429)},
    )
    def get(self, request, symbol: str):
        """One instrument."""
        instrument = selectors.instrument_get(symbol=symbol)
        return Response(s.InstrumentOutput(instrument).data)


class BookApi(APIView):
    @extend_schema(
        parameters=[SYMBOL, s.BookQuery],
        responses={200: s.BookOutput, **errors(400, 401, 404, 429)},
    )
    def get(self, request, symbol: str):
        """Aggregated levels; with region= asks carry all-in prices into it; with
        buy-constraint fields only the asks such a buy could trade with."""
        query = s.BookQuery(data=request.query_params.dict())
        known_query(request, query.fields)
        refuse_unknown_query(request, ())  # a mistyped constraint is never ignored
        query.is_valid(raise_exception=True)
        region = query.validated_data.get("region")
        region = region and _known(Region, "region", region)
        instrument = selectors.instrument_get(symbol=symbol)
        book = selectors.order_book_get(
            instrument=instrument,
            depth=query.validated_data["depth"],
            region=region or None,
            allow=_book_filter(instrument, query.constraints(), region or None),
        )
        return Response(s.BookOutput(book).data)


def _book_filter(instrument, constraints: dict, region):
    """The asks a buy with these constraints could trade with (None: all)."""
    if not constraints:
        return None
    try:
        resolved = constraints_resolve(constraints)
    except InvalidOrder as exc:  # unknown codes: a 400 naming the parameter
        raise ValidationError(exc.fields.get("constraints") or exc.message) from exc
    return eligibility.book_filter(instrument, resolved, region)


class TradeCursor(CursorPagination):
    ordering = "-id"


class TradeListApi(CsvDownload, generics.ListAPIView):
    serializer_class = s.TradeOutput
    csv_columns = CSV_TRADES
    csv_name = "{symbol}-trades"
    pagination_class = TradeCursor
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Instrument.objects.none()
        instrument = selectors.instrument_get(symbol=self.kwargs["symbol"])
        return selectors.trade_list(instrument=instrument)

    @extend_schema(
        parameters=[SYMBOL],
        responses={
            (200, "application/json"): s.TradeOutput(many=True),
            (200, "text/csv"): CSV_BODY,
            **json_errors(400, 401, 404, 429),
        },
    )
    def get(self, request, *args, **kwargs):
        """Public prints, newest first (?format=csv: the page as CSV)."""
        return super().get(request, *args, **kwargs)


class CandleApi(CsvDownload, APIView):
    csv_columns = CSV_CANDLES
    csv_name = "{symbol}-candles"

    @extend_schema(
        parameters=[SYMBOL, s.CandleQuery],
        responses={
            (200, "application/json"): s.CandlePageOutput,
            (200, "text/csv"): CSV_BODY,
            **json_errors(400, 401, 404, 429),
        },
    )
    def get(self, request, symbol: str):
        """OHLCV candles at site prices, newest first (Asia/Shanghai buckets),
        each with its VWAP; never staler than the last trade (?format=csv: the
        page as CSV)."""
        query = parse_whole_query(s.CandleQuery, request)
        instrument = selectors.instrument_get(symbol=symbol)
        rows, older = candles.candle_list(
            instrument=instrument,
            interval=query["interval"],
            start=query.get("from"),
            end=query.get("to"),
            before=query.get("cursor"),
            limit=query["limit"],
        )
        page = {"next": _older_page(request, older), "previous": None}
        return Response(s.CandlePageOutput(page | {"results": rows}).data)


def _older_page(request, older) -> str | None:
    """The URL of the older candles, or None when there are none."""
    if older is None:
        return None
    cursor = str(int(older.timestamp()))
    return replace_query_param(request.build_absolute_uri(), "cursor", cursor)


class LocationalPriceApi(APIView):
    @extend_schema(
        parameters=[s.LocationalQuery],
        responses={200: s.LocationalOutput, **errors(400, 401, 404, 429)},
    )
    def get(self, request):
        """Per region: the best all-in price a buyer there would pay now."""
        query = parse_whole_query(s.LocationalQuery, request)
        instrument = _instrument_for(query)
        stack = query.get("stack")
        rows = locational.locational_prices(instrument=instrument, stack=stack)
        body = {"instrument": instrument.symbol, "stack": stack, "results": rows}
        return Response(s.LocationalOutput(body).data)


def _instrument_for(query: dict) -> Instrument:
    """The named instrument, else the profile's next open one."""
    if "symbol" in query:
        return selectors.instrument_get(symbol=query["symbol"])
    profile = _known(WorkloadProfile, "profile", query["profile"])
    instrument = (
        selectors.instrument_list(profile=profile.code, state=Instrument.State.OPEN)
        .order_by("delivery_start", "symbol")
        .first()
    )
    if instrument is None:
        raise selectors.NotFound(f"No open {profile.code} instrument.")
    return instrument


class IndexApi(CsvDownload, APIView):
    csv_columns = CSV_INDEX
    csv_name = "index-{profile}"

    @extend_schema(
        parameters=[s.IndexQuery],
        responses={
            (200, "application/json"): s.IndexOutput,
            (200, "text/csv"): CSV_BODY,
            **json_errors(400, 401, 429),
        },
    )
    def get(self, request):
        """The daily index of a profile, newest first: VWAP of the day's trades at
        site, outliers beyond 3 MAD trimmed; today's is provisional (?format=csv:
        the same rows as CSV)."""
        query = parse_whole_query(s.IndexQuery, request)
        profile = _known(WorkloadProfile, "profile", query["profile"])
        series = index.index_series(profile=profile, days=query["days"])
        return Response(
            s.IndexOutput({"profile": profile.code, "results": series}).data
        )
