"""Input fields of the contract: decimals only as strings, codes and ids by pattern."""

from decimal import Decimal, InvalidOperation

from rest_framework import serializers

CODE_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class StrictDecimalField(serializers.DecimalField):
    """A decimal that must arrive as a JSON string: a JSON number is a 400 (floats
    would lose the exactness money needs)."""

    default_error_messages = {
        "not_string": 'Send decimals as strings, e.g. "12.50".',
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string")
        try:
            Decimal(data)
        except InvalidOperation:
            self.fail("invalid")
        return super().to_internal_value(data)


class CodeField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(CODE_PATTERN, max_length=64, **kwargs)
