"""Input and output serializers of the public market data endpoints: instruments,
the book, trades, candles, locational prices and the index."""

from datetime import UTC, datetime

from rest_framework import serializers

from exchange.api.serializers import PRICE, QTY
from exchange.models import Instrument
from market.api.fields import BoundedDateTimeField, CodeField


class InstrumentQuery(serializers.Serializer):
    profile = CodeField(required=False)
    state = serializers.ChoiceField(choices=Instrument.State.choices, required=False)


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

    class Meta:
        model = Instrument
        fields = [
            "symbol",
            "profile",
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
            "best_bid",
            "best_ask",
        ]


class BookQuery(serializers.Serializer):
    depth = serializers.IntegerField(min_value=1, max_value=500, default=20)
    region = CodeField(
        required=False, help_text="A buyer's origin: asks then carry all_in_price."
    )


class AskLevelOutput(serializers.Serializer):
    price = serializers.DecimalField(**PRICE, help_text="At the seller's site.")
    quantity = serializers.DecimalField(**QTY)
    region = serializers.CharField()
    stack = serializers.CharField()
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
    interval = serializers.ChoiceField(choices=["1m", "1h", "1d"], default="1h")
    locals()["from"] = BoundedDateTimeField(required=False)
    to = BoundedDateTimeField(required=False)
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


class CandlePageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CandleOutput(many=True)


class LocationalQuery(serializers.Serializer):
    symbol = CodeField(required=False)
    profile = CodeField(required=False, help_text="Its next open instrument.")
    stack = CodeField(required=False)

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
    profile = CodeField()
    days = serializers.IntegerField(min_value=1, max_value=366, default=30)


class IndexPointOutput(serializers.Serializer):
    date = serializers.DateField()
    index = serializers.DecimalField(max_digits=18, decimal_places=4)
    volume = serializers.DecimalField(**QTY)
    trades = serializers.IntegerField()
    trimmed = serializers.IntegerField()


class IndexOutput(serializers.Serializer):
    profile = serializers.CharField()
    results = IndexPointOutput(many=True)
