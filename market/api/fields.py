"""Input fields of the contract: decimals only as strings, codes and ids by pattern."""

import re
from decimal import Decimal, InvalidOperation

from rest_framework import serializers

CODE_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
# Codes of the catalogue (fixtures/), shown as the examples of the fields that name one.
EXAMPLE_PROFILE = "train"
EXAMPLE_CHIP = "nvidia-h100-sxm-80gb"
EXAMPLE_STACK = "CUDA"
EXAMPLE_ORIGIN = "CITY-SH"  # a buyer's region
EXAMPLE_SITE = "CLU-GUIAN"  # a provider's region
EXAMPLE_ZONE = "yangtze-river-delta"


# Plain decimal notation, as the schema's patterns spell it (market/api/schema.py):
# no exponent, sign "+", blanks or NaN, which Decimal would also read.
PLAIN_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


class StrictDecimalField(serializers.DecimalField):
    """A decimal that must arrive as a JSON string in plain notation: a JSON number
    is a 400 (floats would lose the exactness money needs), and so is "1e2"."""

    default_error_messages = {
        "not_string": 'Send decimals as strings, e.g. "12.50".',
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string")
        if not PLAIN_DECIMAL.fullmatch(data):
            self.fail("invalid")
        try:
            Decimal(data)
        except InvalidOperation:
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictStringMixin:
    """A JSON string only: DRF would read 0 as "0", which the schema does not
    allow."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    pass


class StrictRegexField(StrictStringMixin, serializers.RegexField):
    pass


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only, in a body (query parameters use IntegerField)."""

    default_error_messages = {"not_an_integer": "Must be a JSON integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false only, in a body."""

    default_error_messages = {"not_a_boolean": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("not_a_boolean")
        return data


class CodeField(StrictRegexField):
    """A code exactly as the schema's pattern has it: surrounding blanks are a 400,
    not trimmed away (DRF's CharField would trim " X1" into a valid "X1").
    `example`: a code of the catalogue, shown in the schema (market/api/schema.py)."""

    def __init__(self, *, example: str | None = None, **kwargs):
        self.example = example
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(CODE_PATTERN, max_length=64, **kwargs)


class BoundedDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time within years 2000-2999: far-off years would overflow time
    zone arithmetic somewhere down the line, and no market time lies there."""

    default_error_messages = {
        "out_of_range": "Times must lie in the years 2000 to 2999.",
    }

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if not 2000 <= moment.year <= 2999:
            self.fail("out_of_range")
        return moment
