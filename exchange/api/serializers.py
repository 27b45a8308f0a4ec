"""Input and output serializers of the trading endpoints: orders, fills and
clusters (market data: market_serializers.py). Decimals are strings in and out;
inputs are parsed here and checked against the market (references, grid, roles) by
the services."""

from decimal import Decimal

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers

from exchange.marketdata.carbon import trades_carbon_kg
from exchange.models import Order, Trade
from exchange.selectors import fill_view
from exchange.services.requests import OrderRequest
from market.api.fields import (
    EXAMPLE_CHIP,
    EXAMPLE_ORIGIN,
    EXAMPLE_SITE,
    EXAMPLE_STACK,
    EXAMPLE_ZONE,
    BoundedDateTimeField,
    CodeField,
    StrictBooleanField,
    StrictCharField,
    StrictDecimalField,
    StrictIntegerField,
    StrictRegexField,
)
from market.api.schema import ErrorDetailSerializer, SchemaRules
from market.api.serializers import BulkOutput, ShallowFields
from market.models import Certification

EXAMPLE_SYMBOL = "TRAIN-20261201"
MAX_ID = 10**18 - 1
PRICE = {"max_digits": 14, "decimal_places": 2}
QTY = {"max_digits": 16, "decimal_places": 1}
MONEY = {"max_digits": 20, "decimal_places": 4}
# Bounds that keep price x quantity within the ledger's 16 integer digits.
PRICE_RANGE = {"min_value": Decimal("0.01"), "max_value": Decimal("1000000")}
QTY_RANGE = {"min_value": Decimal("0.1"), "max_value": Decimal("100000000")}


def price_input(**kwargs) -> StrictDecimalField:
    return StrictDecimalField(**PRICE, **PRICE_RANGE, **kwargs)


def quantity_input(**kwargs) -> StrictDecimalField:
    return StrictDecimalField(**QTY, **QTY_RANGE, **kwargs)


# --- orders ----------------------------------------------------------------------
def _among(*values) -> dict:
    # Wrapped in allOf: drf-spectacular would turn a bare `enum` into a component.
    return {"allOf": [{"enum": list(values)}]}


def _given(name: str, schema: dict) -> dict:
    """`name` is sent, and as `schema` says (e.g. not null)."""
    return {"required": [name], "properties": {name: schema}}


# Constraints with a value: keys sent as null (a blank share too) are no constraint.
SOME_CONSTRAINT = {
    "type": "object",
    "anyOf": [
        _given("stacks", {"type": "array"}),
        _given("max_latency_ms", {"type": "integer"}),
        _given("regions", {"type": "array"}),
        _given("residency_zone", {"type": "string"}),
        _given("min_green_share", {"type": "string", "pattern": "[0-9]"}),
        _given("chips", {"type": "array"}),
        _given("vendors", {"type": "array"}),
        _given("min_memory_gb", {"type": "integer"}),
        _given("confidential", {"enum": [True]}),
        _given("certifications", {"type": "array"}),
        _given("min_reliability", {"type": "string", "pattern": "[0-9]"}),
    ],
}
# The combinations exchange/services/requests.py checks (each a 400), for the schema.
ORDER_RULES = {
    "allOf": [
        {
            "description": "A limit order (the default) has a price; a market order "
            "is IOC or FOK and not post-only.",
            "anyOf": [
                {
                    "required": ["price"],
                    "properties": {
                        "type": _among("limit"),
                        # A digit: a blank price is read as null.
                        "price": {"type": "string", "pattern": "[0-9]"},
                    },
                },
                {
                    "required": ["type", "time_in_force"],
                    "properties": {
                        "type": _among("market"),
                        "time_in_force": _among("IOC", "FOK"),
                        "post_only": _among(False),
                    },
                },
            ],
        },
        {
            "description": "A post-only order must be able to rest: GTC or GTD.",
            "anyOf": [
                {"properties": {"post_only": _among(False)}},
                {"properties": {"time_in_force": _among("GTC", "GTD")}},
            ],
        },
        {
            "description": "A GTD order, and only a GTD order, takes expires_at.",
            "anyOf": [
                {
                    "required": ["time_in_force", "expires_at"],
                    "properties": {
                        "time_in_force": _among("GTD"),
                        "expires_at": {"type": "string"},
                    },
                },
                {
                    "properties": {"time_in_force": _among("GTC", "IOC", "FOK")},
                    "not": _given("expires_at", {"type": "string"}),
                },
            ],
        },
        {
            "description": "A sell names one of your clusters, and no region or "
            "constraints; a buy names no cluster.",
            "anyOf": [
                {
                    "required": ["cluster"],
                    "properties": {
                        "side": _among("sell"),
                        "cluster": {"type": "integer"},
                    },
                    "not": {
                        "anyOf": [
                            _given("region", {"type": "string"}),
                            _given("constraints", SOME_CONSTRAINT),
                        ]
                    },
                },
                {
                    "properties": {"side": _among("buy")},
                    "not": _given("cluster", {"type": "integer"}),
                },
            ],
        },
    ]
}


class ConstraintsInput(SchemaRules, serializers.Serializer):
    """What a buy accepts. A key this contract does not know is a 400 naming it,
    never dropped; codes are checked against the market by the service."""

    schema_rules = {"additionalProperties": False}

    stacks = serializers.ListField(
        child=CodeField(example=EXAMPLE_STACK),
        allow_empty=False,
        max_length=20,
        required=False,
    )
    max_latency_ms = StrictIntegerField(
        min_value=0, max_value=100_000, required=False, allow_null=True
    )
    regions = serializers.ListField(
        child=CodeField(example=EXAMPLE_SITE),
        allow_empty=False,
        max_length=100,
        required=False,
    )
    residency_zone = CodeField(required=False, allow_null=True, example=EXAMPLE_ZONE)
    min_green_share = StrictDecimalField(
        max_digits=5,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=Decimal(1),
        required=False,
        allow_null=True,
    )
    chips = serializers.ListField(
        child=CodeField(example=EXAMPLE_CHIP),
        allow_empty=False,
        max_length=100,
        required=False,
        help_text="Chip codes allowed (GET /api/v1/chips/).",
    )
    vendors = serializers.ListField(
        child=StrictCharField(max_length=64),
        allow_empty=False,
        max_length=20,
        required=False,
        help_text="Vendors allowed, as GET /api/v1/chips/ names them.",
    )
    min_memory_gb = StrictIntegerField(
        min_value=1,
        max_value=100_000,
        required=False,
        allow_null=True,
        help_text="Memory per chip, GB.",
    )
    confidential = StrictBooleanField(
        required=False,
        allow_null=True,
        help_text="true: only clusters with an operator-verified TEE.",
    )
    certifications = serializers.ListField(
        child=serializers.ChoiceField(choices=Certification.values),
        allow_empty=False,
        max_length=20,
        required=False,
        help_text="Certification codes, all required.",
    )
    min_reliability = StrictDecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(1),
        required=False,
        allow_null=True,
        help_text="The provider's reliability score, 0 to 1.",
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["Unknown constraint."] for key in unknown}
                )
        return super().to_internal_value(data)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A resting buy",
            value={
                "instrument": EXAMPLE_SYMBOL,
                "side": "buy",
                "type": "limit",
                "time_in_force": "GTC",
                "price": "12.50",
                "quantity": "100.0",
                "client_order_id": "bot-42-0001",
                "region": "CITY-SH",
            },
            request_only=True,
        )
    ]
)
class OrderInput(ShallowFields, SchemaRules, serializers.Serializer):
    schema_rules = ORDER_RULES

    instrument = CodeField(example=EXAMPLE_SYMBOL)
    side = serializers.ChoiceField(choices=Order.Side.choices)
    type = serializers.ChoiceField(choices=Order.Type.choices, default="limit")
    time_in_force = serializers.ChoiceField(
        choices=Order.TimeInForce.choices, default="GTC"
    )
    post_only = StrictBooleanField(default=False)
    price = price_input(
        required=False, allow_null=True, help_text="All-in for buys, at site for sells."
    )
    quantity = quantity_input()
    client_order_id = StrictRegexField(
        r"^[A-Za-z0-9._:-]{1,64}$", max_length=64, required=False, allow_null=True
    )
    expires_at = BoundedDateTimeField(required=False, allow_null=True)
    cluster = StrictIntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True
    )
    region = CodeField(required=False, allow_null=True, example=EXAMPLE_ORIGIN)
    constraints = ConstraintsInput(required=False, allow_null=True)

    def to_request(self) -> OrderRequest:
        return order_request(self.validated_data)


def order_request(validated: dict) -> OrderRequest:
    """The service's request from a validated order; constraint keys sent as null
    are the same as absent, so a replay with either body is the same body."""
    data = dict(validated)
    raw = data.pop("constraints", None) or {}
    constraints = {k: v for k, v in raw.items() if v is not None}
    return OrderRequest(**data, constraints=constraints or None)


class BatchOrderInput(OrderInput):
    """An order of a batch. Its fields are checked with the whole batch (a 400); a
    combination the exchange refuses (a limit order without a price, a sell without a
    cluster, ...) is this order's own result, a 400 among the results of a 200."""

    schema_rules = {}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A resting buy and a market buy",
            value={
                "orders": [
                    {
                        "instrument": EXAMPLE_SYMBOL,
                        "side": "buy",
                        "price": "12.40",
                        "quantity": "10.0",
                        "client_order_id": "bot-42-0002",
                    },
                    {
                        "instrument": EXAMPLE_SYMBOL,
                        "side": "buy",
                        "type": "market",
                        "time_in_force": "IOC",
                        "quantity": "5.0",
                    },
                ]
            },
            request_only=True,
        )
    ]
)
class BatchInput(serializers.Serializer):
    orders = BatchOrderInput(many=True, allow_empty=False, max_length=100)


class AmendInput(SchemaRules, serializers.Serializer):
    schema_rules = {  # nothing to amend: a 400
        "anyOf": [{"required": ["price"]}, {"required": ["quantity"]}]
    }

    price = price_input(required=False)
    quantity = quantity_input(required=False, help_text="The new total (> filled).")


class OrderQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)
    instrument = CodeField(required=False, example=EXAMPLE_SYMBOL)
    client_order_id = StrictRegexField(
        r"^[A-Za-z0-9._:-]{1,64}$", max_length=64, required=False
    )


class FillQuery(serializers.Serializer):
    instrument = CodeField(required=False, example=EXAMPLE_SYMBOL)


class CancelAllQuery(serializers.Serializer):
    instrument = CodeField(required=False, example=EXAMPLE_SYMBOL)
    side = serializers.ChoiceField(choices=Order.Side.choices, required=False)


class ConstraintsOutput(serializers.Serializer):
    """The constraints as the service understood them (codes checked, lists sorted;
    null: no constraint)."""

    stacks = serializers.ListField(child=serializers.CharField(), allow_null=True)
    max_latency_ms = serializers.IntegerField(allow_null=True)
    regions = serializers.ListField(child=serializers.CharField(), allow_null=True)
    residency_zone = serializers.CharField(allow_null=True)
    min_green_share = serializers.DecimalField(
        max_digits=5, decimal_places=4, allow_null=True
    )
    chips = serializers.ListField(child=serializers.CharField(), allow_null=True)
    vendors = serializers.ListField(child=serializers.CharField(), allow_null=True)
    min_memory_gb = serializers.IntegerField(allow_null=True)
    confidential = serializers.BooleanField()
    certifications = serializers.ListField(
        child=serializers.CharField(), allow_null=True
    )
    min_reliability = serializers.DecimalField(
        max_digits=3, decimal_places=2, allow_null=True
    )

    def to_representation(self, instance):
        values = {k: instance.get(k) for k in self.fields}
        values["confidential"] = bool(values["confidential"])
        return super().to_representation(values)


class SellAttributesOutput(serializers.Serializer):
    """What a sell trades with: its chip, and as they stood when it got its place,
    its cluster's verified TEE and certifications and its provider's score."""

    chip = serializers.CharField(source="cluster.chip.code")
    confidential = serializers.BooleanField()
    certifications = serializers.SerializerMethodField()
    reliability = serializers.DecimalField(
        max_digits=3, decimal_places=2, allow_null=True
    )

    def get_certifications(self, order) -> list[str]:
        return [c for c in order.certifications.split(",") if c]


class FillListOutput(serializers.ListSerializer):
    """Reads the carbon of a whole list of fills in one batch."""

    def to_representation(self, data):
        trades = list(data)
        carbon = trades_carbon_kg([t.pk for t in trades if isinstance(t, Trade)])
        for trade in trades:
            if isinstance(trade, Trade):
                trade.carbon_kg = carbon.get(trade.pk)
        return super().to_representation(trades)


class FillOutput(BulkOutput, serializers.Serializer):
    bulk_items = True  # a Trade is rendered from its participant's view, a dict

    trade_id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    instrument = serializers.CharField()
    side = serializers.ChoiceField(choices=Order.Side.choices)
    price = serializers.DecimalField(**PRICE, help_text="At the seller's site.")
    surcharge = serializers.DecimalField(**PRICE, help_text="Network, per SCU-h.")
    all_in_price = serializers.DecimalField(**PRICE, help_text="price + surcharge.")
    quantity = serializers.DecimalField(**QTY)
    fee = serializers.DecimalField(**MONEY)
    liquidity = serializers.ChoiceField(choices=["maker", "taker"])
    executed_at = serializers.DateTimeField()
    carbon_kg = serializers.DecimalField(
        max_digits=24,
        decimal_places=3,
        allow_null=True,
        help_text=(
            "kgCO2 of the trade: delivered SCU-h (the quantity until delivery is "
            "reported) x the chip's TDP / its factor x the selling region's PUE x "
            "its grid intensity. Null when the chip's TDP is unpublished."
        ),
    )

    class Meta:
        list_serializer_class = FillListOutput

    def to_representation(self, instance):
        if isinstance(instance, Trade):
            if not hasattr(instance, "carbon_kg"):  # one fill, not a list
                instance.carbon_kg = trades_carbon_kg([instance.pk]).get(instance.pk)
            carbon_kg = instance.carbon_kg
            instance = fill_view(instance, self.context["participant_id"])
            instance["carbon_kg"] = carbon_kg
        return super().to_representation(instance)


class OrderOutput(BulkOutput, serializers.Serializer):
    id = serializers.IntegerField()
    instrument = serializers.CharField(source="instrument.symbol")
    side = serializers.ChoiceField(choices=Order.Side.choices)
    type = serializers.ChoiceField(choices=Order.Type.choices)
    time_in_force = serializers.ChoiceField(choices=Order.TimeInForce.choices)
    post_only = serializers.BooleanField()
    price = serializers.DecimalField(**PRICE)
    quantity = serializers.DecimalField(**QTY)
    client_order_id = serializers.CharField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    cluster = serializers.IntegerField(source="cluster_id", allow_null=True)
    region = serializers.CharField(source="region.code")
    stack = serializers.CharField(source="stack.code", allow_null=True)
    constraints = ConstraintsOutput(allow_null=True)
    attributes = SellAttributesOutput(source="sell_attributes", allow_null=True)
    status = serializers.ChoiceField(choices=Order.Status.choices)
    cancel_reason = serializers.CharField()
    filled_quantity = serializers.DecimalField(**QTY)
    remaining_quantity = serializers.DecimalField(**QTY)
    average_price = serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        allow_null=True,
        help_text="All-in for buys, at site for sells.",
    )
    created_at = serializers.DateTimeField()
    sequence = serializers.IntegerField(allow_null=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not instance.constraints:
            data["constraints"] = None
        return data


class OrderWithFillsOutput(OrderOutput):
    fills = FillOutput(many=True, help_text="The fills this request produced.")


class BatchResultOutput(serializers.Serializer):
    status = serializers.IntegerField()
    order = OrderWithFillsOutput(required=False)
    error = ErrorDetailSerializer(required=False)


class BatchOutput(serializers.Serializer):
    results = BatchResultOutput(many=True)


class CancelledOutput(serializers.Serializer):
    cancelled = serializers.ListField(child=serializers.IntegerField())


class PreviewFillOutput(serializers.Serializer):
    price = serializers.DecimalField(**PRICE, help_text="At the seller's site.")
    surcharge = serializers.DecimalField(**PRICE, help_text="Network, per SCU-h.")
    all_in_price = serializers.DecimalField(**PRICE, help_text="price + surcharge.")
    quantity = serializers.DecimalField(**QTY)
    region = serializers.CharField(
        help_text="The other side's region: the seller's site for a buy, the "
        "buyer's origin for a sell."
    )
    stack = serializers.CharField(help_text="The selling cluster's software stack.")


class RegionVerdictOutput(serializers.Serializer):
    region = serializers.CharField()
    eligible = serializers.BooleanField(
        help_text="Whether this region's sellers (for a buy) or buyers (for a sell) "
        "could trade with the order."
    )
    reason = serializers.CharField(
        allow_null=True, help_text="Why not, in plain words; null when eligible."
    )


class OrderPreviewOutput(serializers.Serializer):
    fills = PreviewFillOutput(many=True, help_text="The fills it would get now.")
    filled_quantity = serializers.DecimalField(**QTY)
    average_price = serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        allow_null=True,
        help_text="All-in for buys, at site for sells.",
    )
    fee = serializers.DecimalField(**MONEY, help_text="Your fees on those fills.")
    hold = serializers.DecimalField(
        **MONEY, help_text="What a buy sets aside when placed (0 for a sell)."
    )
    bond = serializers.DecimalField(
        **MONEY, help_text="What a sell sets aside when placed (0 for a buy)."
    )
    would_rest = serializers.BooleanField(
        help_text="Whether a remainder would rest in the book."
    )
    regions = RegionVerdictOutput(many=True)
    sequence = serializers.IntegerField(
        help_text="The instrument's sequence number the preview reflects; anything "
        "placed after it may change the answer."
    )
    replay_of = serializers.IntegerField(
        allow_null=True,
        help_text="Your order this client_order_id already placed with the same "
        "body: placing it again returns that order and sets nothing more aside.",
    )


# --- clusters --------------------------------------------------------------------
class ClusterInput(serializers.Serializer):
    name = StrictRegexField(r"^[^\x00-\x1f]{1,100}$", max_length=100)
    region = CodeField(example=EXAMPLE_SITE)
    chip = CodeField(example=EXAMPLE_CHIP)
    count = StrictIntegerField(min_value=1, max_value=1_000_000)
    confidential = StrictBooleanField(
        default=False, help_text="Declared: a TEE runs it (an operator verifies)."
    )
    certifications = serializers.ListField(
        child=serializers.ChoiceField(choices=Certification.values),
        max_length=20,
        default=list,
        help_text="Declared certification codes (an operator verifies).",
    )


class CapacityOutput(serializers.Serializer):
    instrument = serializers.CharField()
    profile = serializers.CharField()
    delivery_start = serializers.DateTimeField()
    delivery_end = serializers.DateTimeField()
    factor = serializers.DecimalField(max_digits=12, decimal_places=6)
    scu_h = serializers.DecimalField(**QTY, help_text="count x hours x factor.")
    committed = serializers.DecimalField(
        **QTY,
        help_text="SCU-h the most chips its sells commit at any instant of the "
        "window stand for (sells of every profile and overlapping window).",
    )
    free = serializers.DecimalField(**QTY, help_text="scu_h - committed.")


class ClusterOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    region = serializers.CharField(source="region.code")
    chip = serializers.CharField(source="chip.code")
    count = serializers.IntegerField()
    stack = serializers.CharField(source="chip.stack.code")
    confidential = serializers.BooleanField(help_text="Declared.")
    certifications = serializers.ListField(
        child=serializers.CharField(), source="certification_codes"
    )
    verified = serializers.BooleanField(
        help_text="An operator checked its region, chip and count: it may sell."
    )
    verified_at = serializers.DateTimeField(allow_null=True)
    verified_count = serializers.IntegerField(
        allow_null=True,
        help_text="The count as checked: sells commit at most this many chips until "
        "a raised count is checked again.",
    )
    verified_confidential = serializers.BooleanField()
    verified_certifications = serializers.ListField(
        child=serializers.CharField(), source="verified_certification_codes"
    )
    awaiting_check = serializers.BooleanField(
        help_text="Declared since the last check: sells carry what was verified."
    )
    capacity = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(CapacityOutput(many=True))
    def get_capacity(self, cluster) -> list[dict]:
        return CapacityOutput(
            self.context["capacities"].get(cluster.pk, []), many=True
        ).data
