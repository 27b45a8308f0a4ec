"""Strict pagination: out-of-range `limit`/`offset` is a 400, never silently clamped;
so is a cursor that does not decode, and a query parameter the list does not know."""

import re

from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

from market.api.query import refuse_unknown_query

MAX_LIMIT = 500
MAX_OFFSET = 100_000


def bounded_int(request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() takes "³", which int() refuses (a 500).
    if not re.fullmatch(r"[0-9]+", raw) or not low <= int(raw) <= high:
        raise ValidationError({name: [f"Must be an integer from {low} to {high}."]})
    return int(raw)


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 50
    max_limit = MAX_LIMIT

    def paginate_queryset(self, queryset, request, view=None):
        refuse_unknown_query(request, ("limit", "offset"))
        return super().paginate_queryset(queryset, request, view)

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


POSITION = re.compile(r"[0-9]{1,18}", re.ASCII)


class CursorPagination(pagination.CursorPagination):
    """Newest first by an integer key (`ordering`), `limit` 1-500 per page. A cursor
    that does not decode, or whose position is not an id, is a 400 (never a 500)."""

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        refuse_unknown_query(request, ("limit", "cursor"))
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        return bounded_int(
            request, "limit", default=self.page_size, low=1, high=self.max_page_size
        )

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
        position = None if cursor is None else cursor.position
        if position is not None and not POSITION.fullmatch(position):
            raise ValidationError({"cursor": ["Invalid cursor."]})
        return cursor

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == "limit":
                param["schema"].update({"minimum": 1, "maximum": self.max_page_size})
            else:
                param["schema"].update({"maxLength": 200})
        return params
