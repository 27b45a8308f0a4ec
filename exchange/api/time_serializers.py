"""Serializers of trading across time (API.md "Time"): the forward curve and the
advisor's query and plans."""

from decimal import Decimal

from rest_framework import serializers

from exchange.api.serializers import PRICE, QTY
from market.api.fields import (
    EXAMPLE_ORIGIN,
    EXAMPLE_PROFILE,
    PLAIN_DECIMAL,
    BoundedDateTimeField,
    CodeField,
)

CURVE = {"max_digits": 18, "decimal_places": 4}
MONEY = {"max_digits": 24, "decimal_places": 4}
MAX_SCU_H = Decimal(10_000_000)
MAX_DATA_GB = Decimal(1_000_000_000)


class ForwardQuery(serializers.Serializer):
    profile = CodeField(example=EXAMPLE_PROFILE)


class ForwardPointOutput(serializers.Serializer):
    symbol = serializers.CharField()
    product = serializers.ChoiceField(choices=["day", "block"])
    block = serializers.CharField(allow_null=True, help_text='e.g. "00-04".')
    delivery_start = serializers.DateTimeField()
    delivery_end = serializers.DateTimeField()
    last_price = serializers.DecimalField(**PRICE, allow_null=True)
    mid = serializers.DecimalField(
        **CURVE, allow_null=True, help_text="(best bid + best ask) / 2, both resting."
    )
    settlement_price = serializers.DecimalField(
        **PRICE,
        allow_null=True,
        help_text="Volume-weighted site price of its trades, fixed at the gate.",
    )
    volume = serializers.DecimalField(max_digits=20, decimal_places=1)
    price = serializers.DecimalField(
        **CURVE, allow_null=True, help_text="The curve's point, by `basis`."
    )
    basis = serializers.ChoiceField(choices=["settlement", "last", "mid", "none"])


class ForwardOutput(serializers.Serializer):
    profile = serializers.CharField()
    results = ForwardPointOutput(many=True)


class QueryDecimalField(serializers.DecimalField):
    """A decimal query parameter in plain notation (no exponent, no blanks)."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not PLAIN_DECIMAL.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class AdvisorQuery(serializers.Serializer):
    profile = CodeField(example=EXAMPLE_PROFILE)
    origin = CodeField(example=EXAMPLE_ORIGIN, help_text="Where the job's data is.")
    scu_h = QueryDecimalField(
        max_digits=9,
        decimal_places=1,
        min_value=Decimal("0.1"),
        max_value=MAX_SCU_H,
        help_text="The job's size in SCU-h, on the lot grid (0.1).",
    )
    data_gb = QueryDecimalField(
        max_digits=13,
        decimal_places=3,
        min_value=Decimal(0),
        max_value=MAX_DATA_GB,
        default=Decimal(0),
        help_text="The job's data to move to a remote region (GB).",
    )
    earliest = BoundedDateTimeField(
        required=False, help_text="The job's earliest start (default: now)."
    )
    deadline = BoundedDateTimeField(
        required=False, help_text="The job must end by then (default: no bound)."
    )
    split = serializers.BooleanField(
        default=False, help_text="The job may run in several windows and regions."
    )

    def validate(self, attrs):
        earliest, deadline = attrs.get("earliest"), attrs.get("deadline")
        if earliest and deadline and deadline <= earliest:
            raise serializers.ValidationError({"deadline": ["Must be after earliest."]})
        return attrs


class LegOutput(serializers.Serializer):
    region = serializers.CharField(source="pair.region")
    symbol = serializers.CharField(source="pair.symbol")
    quantity = serializers.DecimalField(**QTY)
    price = serializers.DecimalField(
        **CURVE, help_text="Volume-weighted site price of the asks the leg takes."
    )
    surcharge = serializers.DecimalField(source="pair.surcharge", **PRICE)
    all_in_price = serializers.DecimalField(**CURVE)


class PlanOutput(serializers.Serializer):
    legs = LegOutput(many=True)
    all_in_cost = serializers.DecimalField(
        **MONEY, help_text="Asks plus surcharges, as matching charges them."
    )
    network_cost = serializers.DecimalField(**MONEY, help_text="Its surcharge part.")
    energy_kwh = serializers.DecimalField(
        max_digits=20, decimal_places=1, allow_null=True
    )
    electricity_cost = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        allow_null=True,
        help_text="The sellers' electricity at time-of-use prices: in the asks.",
    )
    carbon_kg = serializers.DecimalField(
        max_digits=20, decimal_places=1, allow_null=True
    )
    latency_ms = serializers.DecimalField(max_digits=7, decimal_places=2)
    data_gb = serializers.DecimalField(max_digits=13, decimal_places=3)
    tariff_data_gb = serializers.DecimalField(
        max_digits=20,
        decimal_places=1,
        help_text="The data the surcharge tariff assumes for the remote SCU-h: for "
        "information, never added.",
    )


class AdvisorOutput(serializers.Serializer):
    results = PlanOutput(many=True)
    home = PlanOutput(allow_null=True)
