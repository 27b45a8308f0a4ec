"""History downloads: `?format=csv` (or `Accept: text/csv`) on the trades, candles
and index endpoints gives the same rows as their JSON, as CSV with a header line,
same filters and pages (the next page in a `Link` header); times are as in the JSON,
on the Asia/Shanghai clock with their offset. Errors stay JSON."""

import csv
import io

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework.renderers import BaseRenderer, JSONRenderer

from market.api.schema import errors

CSV_TRADES = (
    "id",
    "price",
    "all_in_price",
    "quantity",
    "sell_region",
    "buy_region",
    "aggressor",
    "executed_at",
)
CSV_CANDLES = (
    "start",
    "end",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "trades",
    "vwap",
)
CSV_INDEX = ("date", "index", "volume", "trades", "trimmed", "provisional")
CSV_BODY = OpenApiResponse(
    OpenApiTypes.STR,
    description="With format=csv: the rows as CSV, a header line first.",
)


def json_errors(*statuses: int) -> dict:
    """The error responses, JSON whatever format was asked for."""
    return {(code, "application/json"): r for code, r in errors(*statuses).items()}


class CsvRenderer(BaseRenderer):
    """The `results` of a response as CSV, columns as the view's `csv_columns`."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        view = (renderer_context or {}).get("view")
        columns = view.csv_columns
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in data.get("results", []):
            writer.writerow([_cell(row.get(c)) for c in columns])
        return out.getvalue().encode()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as in the JSON
    return str(value)


class CsvDownload:
    """A view mixin: JSON, or CSV when asked for; `csv_columns` names the row
    fields and their order, `csv_name(kwargs)` the file."""

    renderer_classes = [JSONRenderer, CsvRenderer]
    csv_columns: tuple[str, ...] = ()
    csv_name = "rows"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if not isinstance(getattr(response, "accepted_renderer", None), CsvRenderer):
            return response
        if response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
            return response
        name = self.csv_name.format(**self.kwargs, **request.query_params.dict())
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        if isinstance(response.data, dict) and response.data.get("next"):
            response["Link"] = f'<{response.data["next"]}>; rel="next"'
        return response
