"""OpenAPI helpers: the error envelope and the statuses each endpoint can return."""

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
    "price_out_of_band, fok_not_fillable, post_only_would_cross, price_required.",
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
