"""The private stream for the site's own pages: the same stream as
`GET /api/v1/stream/private/`, for the logged-in participant (its session, not an
API key), so that "My orders" follows the participant's orders as they change.
The page opens it on the streams process's address, with credentials; that
answer names the page's origin (one of ALLOWED_HOSTS) as allowed."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponseForbidden, JsonResponse
from django.http.request import validate_host
from django.views.decorators.http import require_safe
from rest_framework.exceptions import Throttled

from exchange.api import streams as api_streams  # noqa: F401  (the representations)
from exchange.streams import sse
from exchange.streams.cursors import PrivateCursor
from exchange.streams.positions import BadPosition, PrivatePosition
from market.api.auth import participant_of
from market.api.errors import error_body


@require_safe
def my_stream(request):
    participant = participant_of(request) if request.user.is_authenticated else None
    if participant is None:
        return _allowing_origin(request, HttpResponseForbidden())
    text = request.headers.get("Last-Event-ID", "")
    try:
        position = PrivatePosition.parse(text) if text else None
    except BadPosition:
        position = None  # a stale or foreign id: start from now
    cursor = PrivateCursor(participant.pk, position)
    try:
        response = sse.stream_response(request, cursor, f"p{participant.pk}")
    except Throttled as exc:  # its open streams are at their limit: as the API says
        response = JsonResponse(error_body("throttled", str(exc.detail)), status=429)
        response["Retry-After"] = str(int(exc.wait or 1))
    return _allowing_origin(request, response)


def _allowing_origin(request, response):
    origin = request.headers.get("Origin", "")
    host = urlsplit(origin).hostname or ""
    if origin and validate_host(host, settings.ALLOWED_HOSTS):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    return response
