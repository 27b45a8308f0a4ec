"""OpenAPI helpers: the error envelope and the statuses each endpoint can return; and
extensions that put what the input fields check into the schema (patterns, ranges,
list lengths, combinations), so that data the schema allows is data the API takes."""

import copy
from decimal import Decimal

from django.core.validators import RegexValidator
from drf_spectacular.extensions import (
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.JSONField(), help_text="Field name -> list of messages."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "Bad input (format, reference, tick or lot): validation_error, parse_error, "
    "invalid_character.",
    401: "not_authenticated: no or invalid API key.",
    403: "permission_denied.",
    404: "not_found.",
    405: "method_not_allowed.",
    406: "not_acceptable.",
    409: "State conflict: instrument_not_open, order_not_open, "
    "client_order_id_conflict.",
    415: "unsupported_media_type.",
    422: "Business rule: insufficient_funds, insufficient_capacity, "
    "no_conversion_factor, "
    "price_out_of_band, fok_not_fillable, post_only_would_cross, price_required, "
    "region_suspended, cluster_not_verified, too_many_keys.",
    429: "throttled (see Retry-After).",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses for `extend_schema(responses=...)`; 405/406 apply everywhere."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in sorted({*statuses, 405, 406})
    }


def paginated(serializer_class, name: str):
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


# --- what the input fields check, said in the schema --------------------------------
# Extensions drf-spectacular picks up on import (every API module imports this one).
# They describe request fields only: a response is never validated by these fields.


def _digits(low: int, high: int) -> str:
    """A regex of `low` to `high` decimal digits."""
    if high == 0:
        return ""
    counts = f"{{{high}}}" if low == high else f"{{{low},{high}}}"
    return "[0-9]" + ("" if high == 1 and low == 1 else counts)


def _integers_below(bound: int) -> str | None:
    """A regex of the integers 1 to bound - 1, written without leading zeros."""
    digits = str(bound)
    width = len(digits)
    parts = [f"[1-9]{_digits(0, width - 2)}"] if width > 1 else []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            rest = _digits(width - i - 1, width - i - 1)
            parts.append(f"{digits[:i]}[{low}-{int(digit) - 1}]{rest}")
    return "|".join(parts) or None


def _nonzero_fraction(places: int) -> str:
    """A regex of 1 to `places` fraction digits, not all of them zero."""
    return "|".join(
        f"{'0' * zeros}[1-9]{_digits(0, places - zeros - 1)}" for zeros in range(places)
    )


def decimal_pattern(field: serializers.DecimalField) -> str | None:
    """The strings a DecimalField accepts, as a regex: at most `decimal_places`
    decimals, between `min_value` (0 or one unit of the last place) and an integer
    `max_value` (else below what `max_digits` allows); leading zeros are allowed, as
    Decimal reads them; a nullable field reads a blank as null. None when the bounds
    are of another kind. Exotic spellings the field also reads (`1e2`, `+5`, blanks
    around a number) are left out on purpose."""
    places = field.decimal_places or 0
    whole = 10 ** ((field.max_digits or 30) - places)
    low, high = field.min_value, field.max_value
    if low is None or Decimal(low) not in (0, Decimal(1).scaleb(-places)):
        return None
    if high is not None and Decimal(high) != Decimal(high).to_integral_value():
        return None
    top = int(high) if high is not None and high < whole else None
    below = _integers_below(whole if top is None else top)
    fraction = f"(?:\\.{_digits(0, places)})?"
    zero = f"(?:\\.0{{0,{places}}})?"
    parts = [f"0*(?:{below}){fraction}"] if below else []
    if places:
        parts.append(f"0*\\.(?:{_nonzero_fraction(places)})")
    if top is not None:
        parts.append(f"0*{top}{zero}")
    if low == 0:
        # Zero, however written ("-0" too: it is not below 0).
        parts.append(f"-?0+{zero}")
        if places:
            parts.append(f"-?\\.0{{1,{places}}}")
    if field.allow_null:
        parts.append("\\s*")  # blank: read as null
    return "^(?:" + "|".join(parts) + ")$"


class DecimalInputExtension(OpenApiSerializerFieldExtension):
    """A decimal input's exact pattern, range included (the default pattern allows
    "", "-" and any magnitude the digits allow)."""

    target_class = serializers.DecimalField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        pattern = decimal_pattern(self.target)
        if direction == "request" and pattern and schema.get("type") == "string":
            schema["pattern"] = pattern
        return schema


class ListInputExtension(OpenApiSerializerFieldExtension):
    """A list input that may not be empty, or holds at most so many items, says so
    (drf-spectacular leaves `allow_empty` and a list serializer's length out)."""

    target_class = serializers.ListField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        if direction == "request":
            _list_bounds(schema, self.target)
        return schema


class ListSerializerInputExtension(ListInputExtension):
    target_class = serializers.ListSerializer


def _list_bounds(schema: dict, field) -> None:
    low = 0 if getattr(field, "allow_empty", True) else 1
    low = max(low, getattr(field, "min_length", None) or 0)
    if low:
        schema["minItems"] = max(schema.get("minItems", 0), low)
    high = getattr(field, "max_length", None)
    if high is not None:
        schema["maxItems"] = min(schema.get("maxItems", high), high)


class BoundedDateTimeExtension(OpenApiSerializerFieldExtension):
    """A time in the years 2000 to 2999: in ISO 8601, one that starts with a 2."""

    target_class = "market.api.fields.BoundedDateTimeField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        if direction == "request":
            schema["pattern"] = "^2[0-9]{3}"
        return schema


class TextInputExtension(OpenApiSerializerFieldExtension):
    """Text without a pattern of its own says that it holds no NUL (U+0000 anywhere
    in a request is a 400 `invalid_character`): by `not`, where it may be blank (with
    a pattern, drf-spectacular would offer "" in two branches of a `oneOf`); a code
    field that names a reference object shows a code of the catalogue (fixtures/)
    as its example."""

    target_class = serializers.CharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        plain = not any(isinstance(v, RegexValidator) for v in self.target.validators)
        if direction == "request" and schema.get("type") == "string" and plain:
            if self.target.allow_blank:
                schema.setdefault("not", {"pattern": "\\u0000"})
            else:
                schema.setdefault("pattern", "^[^\\u0000]*$")
        if getattr(self.target, "example", None):
            schema["example"] = self.target.example
        return schema


# A serializer mixin: `schema_rules`, JSON Schema keywords merged into its request
# schema, for what its fields alone cannot say (combinations the serializer or the
# service checks, with the same outcome: a 400). No docstring: drf-spectacular would
# show it as the description of every serializer that mixes it in.
class SchemaRules:
    schema_rules: dict = {}


class SchemaRulesExtension(OpenApiSerializerExtension):
    target_class = SchemaRules
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(
            self.target, direction, bypass_extensions=True
        )
        if direction == "request":
            _merge(schema, copy.deepcopy(self.target.schema_rules))
        return schema


def _merge(schema: dict, rules: dict) -> None:
    for key, value in rules.items():
        if isinstance(value, dict) and isinstance(schema.get(key), dict):
            _merge(schema[key], value)
        else:
            schema[key] = value


# Operations whose body may leave every field out but may not be missing: an amend
# names a price or a quantity (its `schema_rules`), and without a body it is a 400.
BODY_REQUIRED = {"orders_partial_update"}


def bodies_required(result, generator, request, public):
    """Postprocessing hook: drf-spectacular marks a request body required only when
    one of its fields is required; mark the ones of BODY_REQUIRED too."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            body = operation.get("requestBody")
            if body is not None and operation.get("operationId") in BODY_REQUIRED:
                body["required"] = True
    return result
