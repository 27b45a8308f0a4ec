"""The market and private streams (Server-Sent Events): `GET /api/v1/stream/market/`
(public) and `GET /api/v1/stream/private/` (a participant's key).

Served live by the streams process (ASGI, config/asgi.py). A WSGI worker answers
with a redirect to it when `EXCHANGE_STREAMS_URL` names it, else once (a snapshot,
or the events missed) and lets `retry:` bring the client back: a worker thread is
never held by a stream. Errors are JSON, as everywhere in the API.
"""

import json

from django.conf import settings
from django.http import HttpResponseRedirect
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.views import APIView

from exchange.api.serializers import EXAMPLE_SYMBOL, FillOutput, OrderOutput
from exchange.exceptions import NotFound
from exchange.models import Instrument
from exchange.streams import private, sse
from exchange.streams.cursors import MarketCursor, PrivateCursor
from exchange.streams.positions import PrivatePosition, market_parse
from market.api.auth import IsParticipant, participant_of
from market.api.fields import StrictRegexField
from market.api.query import parse_query
from market.api.schema import errors

MAX_SYMBOLS = 20
private.represent_with(OrderOutput(), FillOutput)  # how the private stream writes
SYMBOLS = r"^[A-Za-z0-9._-]{1,64}(,[A-Za-z0-9._-]{1,64}){0,19}$"


class EventStreamRenderer(BaseRenderer):
    """Lets `Accept: text/event-stream` (what EventSource sends) through content
    negotiation; the streams write their own bodies, errors stay JSON."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode()


class StreamApi(APIView):
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(response, "accepted_renderer", None).__class__ is not JSONRenderer:
            response.accepted_renderer = JSONRenderer()  # errors are JSON
            response.accepted_media_type = "application/json"
        # Readable from any page (the site's own are on another port): the API's
        # only credentials are keys in a header, which a browser never adds.
        response["Access-Control-Allow-Origin"] = "*"
        return response

    def elsewhere(self, request):
        """The streams process's address for this request, from a WSGI worker."""
        base = settings.EXCHANGE_STREAMS_URL
        if not base or sse.is_live(request):
            return None
        return HttpResponseRedirect(base.rstrip("/") + request.get_full_path(), 307)


class SymbolsField(StrictRegexField):
    example = EXAMPLE_SYMBOL  # shown in the schema (market/api/schema.py)


class MarketStreamQuery(serializers.Serializer):
    instruments = SymbolsField(
        SYMBOLS,
        max_length=MAX_SYMBOLS * 65,
        help_text=f"Symbols, comma-separated, at most {MAX_SYMBOLS}.",
    )
    last_event_id = serializers.CharField(
        required=False,
        max_length=4096,
        help_text="Resume after this position (as the Last-Event-ID header).",
    )


class PrivateStreamQuery(serializers.Serializer):
    last_event_id = serializers.CharField(
        required=False,
        max_length=4096,
        help_text="Resume after this position (as the Last-Event-ID header).",
    )


LAST_EVENT_ID = OpenApiParameter(
    "Last-Event-ID",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The `id:` of the last event received: the stream resumes after it.",
)


def stream_body(events: list[str]) -> OpenApiResponse:
    """Server-Sent Events, described one event at a time (OpenAPI 3.0 has no
    itemSchema: the schema of a text/event-stream response is an event's)."""
    return OpenApiResponse(
        {
            "type": "object",
            "required": ["event", "data"],
            "properties": {
                "id": {"type": "string", "description": "the stream's position"},
                "event": {"type": "string", "enum": events},
                "data": {"type": "string", "description": "one JSON object"},
                "retry": {"type": "integer"},
            },
        },
        description="Server-Sent Events (see the endpoint's description).",
    )


MARKET_EVENTS = stream_body(["book", "trade", "level", "state", "region"])
PRIVATE_EVENTS = stream_body(["order", "fill", "delivery", "settlement", "reset"])
REDIRECT = OpenApiResponse(
    description="The streams process serves it: follow `Location` "
    "(only when EXCHANGE_STREAMS_URL is set)."
)


def _errors(*statuses: int) -> dict:
    return {(code, "application/json"): r for code, r in errors(*statuses).items()}


def last_event_id(request, query: dict) -> str:
    return request.headers.get("Last-Event-ID") or query.get("last_event_id") or ""


def client_key(request) -> str:
    participant = participant_of(request)
    if participant is not None:
        return f"p{participant.pk}"
    return f"a{request.META.get('REMOTE_ADDR', '')}"


MARKET_DESCRIPTION = """Live market data of up to 20 instruments as Server-Sent Events.

First a `book` snapshot of each instrument (its levels, `seq`, `state`), then
`trade`, `level` (the new total of one aggregated level; 0 removes it) and `state`
events, and a `: ping` comment at least every 15 s. Every event's `id:` is the
stream's whole position, `<symbol>:<seq>.<n>` per instrument, comma-separated:
reconnect with it as `Last-Event-ID` (or `last_event_id=`) to get every event after
it, on every instrument, with no gap and no duplicate; a position the server can
no longer resume from gets a fresh `book` with `"reset": true`. A client that does
not read is dropped and may resume. Served by a WSGI worker, the answer is the
snapshot alone and the client reconnects after `retry:`."""

PRIVATE_DESCRIPTION = """Your own events as Server-Sent Events: `order` (the order as
`GET /orders/{id}/` shows it after the change, with `change` and `change_seq`),
`fill` (as in `/fills/`, with carbon), `delivery` (a report, confirmation or dispute
of one of your trades) and `settlement`, each with `change`. The stream opens with
an id-only block: its starting position. Every `id:` is an opaque position;
reconnect with it as `Last-Event-ID` to get every event after it, with no gap and
no duplicate (older than a day: a `reset` event, then from now)."""


class MarketStreamApi(StreamApi):
    @extend_schema(
        operation_id="stream_market",
        description=MARKET_DESCRIPTION,
        parameters=[MarketStreamQuery, LAST_EVENT_ID],
        responses={
            (200, "text/event-stream"): MARKET_EVENTS,
            (307, "application/json"): REDIRECT,
            **_errors(400, 401, 404, 429),
        },
    )
    def get(self, request):
        if redirect := self.elsewhere(request):
            return redirect
        query = parse_query(MarketStreamQuery, request)
        symbols = list(dict.fromkeys(query["instruments"].split(",")))
        known = set(
            Instrument.objects.filter(symbol__in=symbols).values_list(
                "symbol", flat=True
            )
        )
        if missing := [s for s in symbols if s not in known]:
            raise NotFound(f"No instrument {', '.join(missing)}.")
        points = market_parse(last_event_id(request, query))
        points = {s: p for s, p in points.items() if s in known}
        cursor = MarketCursor(symbols, points)
        return sse.stream_response(request, cursor, client_key(request))


class PrivateStreamApi(StreamApi):
    permission_classes = [IsParticipant]

    @extend_schema(
        operation_id="stream_private",
        description=PRIVATE_DESCRIPTION,
        parameters=[PrivateStreamQuery, LAST_EVENT_ID],
        responses={
            (200, "text/event-stream"): PRIVATE_EVENTS,
            (307, "application/json"): REDIRECT,
            **_errors(400, 401, 403, 429),
        },
    )
    def get(self, request):
        if redirect := self.elsewhere(request):
            return redirect
        query = parse_query(PrivateStreamQuery, request)
        text = last_event_id(request, query)
        position = PrivatePosition.parse(text) if text else None
        participant = participant_of(request)
        cursor = PrivateCursor(participant.pk, position)
        return sse.stream_response(request, cursor, client_key(request))
