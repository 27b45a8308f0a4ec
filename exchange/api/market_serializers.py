"""Input and output serializers of the public market data endpoints: instruments,
the book, trades, candles, locational prices and the index."""

from datetime import UTC, datetime
from decimal import Decimal

from rest_framework import serializers

from exchange.api.serializers import EXAMPLE_SYMBOL, PRICE, QTY
from exchange.marketdata.candles import trade_figures
from exchange.models import Instrument
from market.api.fields import (
    EXAMPLE_ORIGIN,
    EXAMPLE_PROFILE,
    EXAMPLE_STACK,
    EXAMPLE_ZONE,
    BoundedDateTimeField,
    CodeField,
)


class InstrumentQuery(serializers.Serializer):
    profile = CodeField(required=False, example=EXAMPLE_PROFILE)
    state = serializers.ChoiceField(choices=Instrument.State.choices, required=False)


VWAP = {"max_digits": 18, "decimal_places": 4}
CENT, LOT, VWAP_PLACES = Decimal("0.01"), Decimal("0.1"), Decimal("0.0001")
OHLC = ("open", "high", "low", "close")


class InstrumentListOutput(serializers.ListSerializer):
    """Reads the trade figures (volume, VWAP) of a whole page in one batch."""

    def to_representation(self, data):
        instruments = list(data)
        figures = trade_figures(instruments)
        for instrument in instruments:
            instrument.figures = figures[instrument.pk]
        return super().to_representation(instruments)


class InstrumentOutput(serializers.ModelSerializer):
    profile = serializers.CharField(source="profile.code")
    conversion_version = serializers.IntegerField(source="conversion_table.version")
    surcharge_version = serializers.IntegerField(source="surcharge_table.version")
    best_bid = serializers.DecimalField(
        **PRICE, allow_null=True, help_text="Best bid, all-in at the buyer's origin."
    )
    best_ask = serializers.DecimalField(
        **PRICE, allow_null=True, help_text="Best ask, at the seller's site."
    )
    volume = serializers.DecimalField(
        source="figures.volume",
        max_digits=20,
        decimal_places=1,
        read_only=True,
        help_text="SCU-h traded so far.",
    )
    vwap = serializers.DecimalField(
        source="figures.vwap",
        **VWAP,
        allow_null=True,
        read_only=True,
        help_text="Volume-weighted average site price of all trades so far.",
    )

    class Meta:
        model = Instrument
        list_serializer_class = InstrumentListOutput
        fields = [
            "symbol",
            "profile",
            "product",
            "block",
            "delivery_start",
            "delivery_end",
            "gate_closure_at",
            "state",
            "tick_size",
            "lot_size",
            "price_band_pct",
            "opening_price",
            "reference_price",
            "bond_rate",
            "maker_fee_bps",
            "taker_fee_bps",
            "conversion_version",
            "surcharge_version",
            "last_price",
            "settlement_price",
            "best_bid",
            "best_ask",
            "volume",
            "vwap",
        ]

    def to_representation(self, instance):
        if not hasattr(instance, "figures"):  # one instrument, not a list
            instance.figures = trade_figures([instance])[instance.pk]
        return super().to_representation(instance)


class CommaList(serializers.CharField):
    """A query parameter listing values, comma-separated: a list of them."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        values = [v.strip() for v in super().to_internal_value(data).split(",")]
        if not all(values):
            raise serializers.ValidationError("A comma-separated list, no blanks.")
        return values


class BookQuery(serializers.Serializer):
    """The book; the buy-constraint fields (as in an order's `constraints`) show
    only the asks a buy with them could trade with."""

    depth = serializers.IntegerField(min_value=1, max_value=500, default=20)
    region = CodeField(
        required=False,
        example=EXAMPLE_ORIGIN,
        help_text="A buyer's origin: asks then carry all_in_price.",
    )
    stacks = CommaList(help_text="Stack codes, comma-separated.")
    regions = CommaList(help_text="Region codes allowed, comma-separated.")
    residency_zone = CodeField(required=False, example=EXAMPLE_ZONE)
    max_latency_ms = serializers.IntegerField(
        min_value=0, max_value=100_000, required=False, help_text="Needs region=."
    )
    min_green_share = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=Decimal(1),
        required=False,
    )
    chips = CommaList(help_text="Chip codes, comma-separated.")
    vendors = CommaList(help_text="Vendors as GET /chips/ names them.")
    min_memory_gb = serializers.IntegerField(
        min_value=1, max_value=100_000, required=False
    )
    confidential = serializers.BooleanField(required=False, default=None)
    certifications = CommaList(help_text="Certification codes, all required.")
    min_reliability = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(1),
        required=False,
    )

    def validate(self, attrs):
        if "max_latency_ms" in attrs and "region" not in attrs:
            raise serializers.ValidationError(
                {"max_latency_ms": ["A latency bound needs region= (the origin)."]}
            )
        return attrs

    def constraints(self) -> dict:
        """The constraint fields sent, as an order's `constraints` holds them."""
        names = [f for f in self.fields if f not in ("depth", "region")]
        return {
            name: self.validated_data[name]
            for name in names
            if self.validated_data.get(name) is not None
        }


class AskLevelOutput(serializers.Serializer):
    price = serializers.DecimalField(**PRICE, help_text="At the seller's site.")
    quantity = serializers.DecimalField(**QTY)
    region = serializers.CharField()
    stack = serializers.CharField()
    chip = serializers.CharField()
    confidential = serializers.BooleanField(
        help_text="Sold from a cluster with an operator-verified TEE."
    )
    certifications = serializers.ListField(
        child=serializers.CharField(), help_text="Verified certifications."
    )
    reliability = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        allow_null=True,
        help_text="The provider's reliability when the asks were placed.",
    )
    all_in_price = serializers.DecimalField(
        **PRICE, required=False, help_text="price + surcharge (only with region=)."
    )


class BidLevelOutput(serializers.Serializer):
    price = serializers.DecimalField(**PRICE, help_text="All-in at the origin.")
    quantity = serializers.DecimalField(**QTY)
    region = serializers.CharField(help_text="The buyers' origin region.")


class BookOutput(serializers.Serializer):
    instrument = serializers.CharField()
    sequence = serializers.IntegerField()
    region = serializers.CharField(allow_null=True)
    asks = AskLevelOutput(many=True)
    bids = BidLevelOutput(many=True)


class TradeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    price = serializers.DecimalField(**PRICE)
    all_in_price = serializers.DecimalField(**PRICE)
    quantity = serializers.DecimalField(**QTY)
    sell_region = serializers.CharField(source="sell_region.code")
    buy_region = serializers.CharField(source="buy_region.code")
    aggressor = serializers.ChoiceField(choices=["buy", "sell"])
    executed_at = serializers.DateTimeField()


class CandleQuery(serializers.Serializer):
    interval = serializers.ChoiceField(
        choices=["1m", "1h", "1d"],
        default="1h",
        help_text="Bucket width; buckets follow the Asia/Shanghai clock.",
    )
    locals()["from"] = BoundedDateTimeField(
        required=False, help_text="Candles that start at or after this instant."
    )
    to = BoundedDateTimeField(
        required=False, help_text="Candles that start before this instant."
    )
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    cursor = serializers.RegexField(
        r"^[0-9]{1,10}$", required=False, help_text="From the previous page's next."
    )

    def validate_cursor(self, value: str) -> datetime:
        """Candles that start before this instant (seconds since the epoch)."""
        return datetime.fromtimestamp(int(value), tz=UTC)

    def validate(self, attrs):
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"to": ["Must be after from."]})
        return attrs


class CandleOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    open = serializers.DecimalField(**PRICE)
    high = serializers.DecimalField(**PRICE)
    low = serializers.DecimalField(**PRICE)
    close = serializers.DecimalField(**PRICE)
    volume = serializers.DecimalField(**QTY)
    trades = serializers.IntegerField()
    vwap = serializers.DecimalField(
        **VWAP, help_text="Volume-weighted average site price in the candle."
    )

    def to_representation(self, instance: dict) -> dict:
        """The fields above, formatted as they would format themselves, by hand: a
        page holds up to 1000 candles, and the generic path cost most of the
        response's time (tests/bench/bench_candles.py)."""
        return {
            "start": instance["start"].isoformat(),
            "end": instance["end"].isoformat(),
            **{name: f"{instance[name].quantize(CENT):f}" for name in OHLC},
            "volume": f"{instance['volume'].quantize(LOT):f}",
            "trades": instance["trades"],
            "vwap": f"{instance['vwap'].quantize(VWAP_PLACES):f}",
        }


class CandlePageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CandleOutput(many=True)


class LocationalQuery(serializers.Serializer):
    symbol = CodeField(required=False, example=EXAMPLE_SYMBOL)
    profile = CodeField(
        required=False, example=EXAMPLE_PROFILE, help_text="Its next open instrument."
    )
    stack = CodeField(required=False, example=EXAMPLE_STACK)

    def validate(self, attrs):
        if "symbol" not in attrs and "profile" not in attrs:
            raise serializers.ValidationError(
                {"symbol": ["Give symbol=, or profile= for its next instrument."]}
            )
        return attrs


class LocationalPriceOutput(serializers.Serializer):
    region = serializers.CharField()
    price = serializers.DecimalField(
        **PRICE, allow_null=True, help_text="Least ask + surcharge into the region."
    )
    source_region = serializers.CharField(allow_null=True)
    surcharge = serializers.DecimalField(**PRICE, allow_null=True)
    local_price = serializers.DecimalField(
        **PRICE, allow_null=True, help_text="Best ask in the region itself."
    )
    spread = serializers.DecimalField(
        **PRICE, allow_null=True, help_text="local_price - price."
    )


class LocationalOutput(serializers.Serializer):
    instrument = serializers.CharField()
    stack = serializers.CharField(allow_null=True)
    results = LocationalPriceOutput(many=True)


class IndexQuery(serializers.Serializer):
    profile = CodeField(example=EXAMPLE_PROFILE)
    days = serializers.IntegerField(min_value=1, max_value=366, default=30)


class IndexPointOutput(serializers.Serializer):
    date = serializers.DateField(help_text="A day on the Asia/Shanghai clock.")
    index = serializers.DecimalField(
        **VWAP, help_text="VWAP of the day's trades at site, outliers trimmed."
    )
    volume = serializers.DecimalField(**QTY)
    trades = serializers.IntegerField()
    trimmed = serializers.IntegerField(
        help_text="Trades left out, priced beyond 3 MAD of the day's median."
    )
    provisional = serializers.BooleanField(
        help_text="Today, or a finished day not published yet: may still change."
    )


class IndexOutput(serializers.Serializer):
    profile = serializers.CharField()
    results = IndexPointOutput(many=True)
