"""Strict pagination: out-of-range `limit`/`offset` is a 400, never silently clamped."""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_LIMIT = 500
MAX_OFFSET = 100_000


def bounded_int(request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValidationError({name: [f"Must be an integer from {low} to {high}."]})
    return int(raw)


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 50
    max_limit = MAX_LIMIT

    def get_limit(self, request):
        return bounded_int(
            request, "limit", default=self.default_limit, low=1, high=MAX_LIMIT
        )

    def get_offset(self, request):
        return bounded_int(request, "offset", default=0, low=0, high=MAX_OFFSET)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        bounds = {"limit": (1, MAX_LIMIT), "offset": (0, MAX_OFFSET)}
        for param in params:
            low, high = bounds[param["name"]]
            param["schema"].update({"minimum": low, "maximum": high})
        return params
