"""Project-level views: the home page, health, and error pages that answer in the API's
envelope under /api/ and in HTML elsewhere."""

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error

from core import heartbeat
from market.api.errors import api_not_found as _api_not_found
from market.api.errors import api_server_error


@never_cache
def healthz(request):
    """200 only when beat's heartbeat task ran on a worker in the last 30 s: proves web,
    worker and beat are all alive."""
    age = heartbeat.age_seconds()
    ok = age is not None and age <= settings.HEARTBEAT_MAX_AGE_SECONDS
    return JsonResponse(
        {"status": "ok" if ok else "stale", "heartbeat_age_s": age},
        status=200 if ok else 503,
    )


@csrf_exempt  # any method: an unknown API URL is a 404 in the envelope, not a 403
def api_not_found(request, rest: str = ""):
    return _api_not_found(request)


def not_found(request, exception=None):
    if request.path_info.startswith("/api/"):
        return _api_not_found(request)
    return page_not_found(request, exception)


def server_error(request):
    if request.path_info.startswith("/api/"):
        return api_server_error(request)
    return html_server_error(request)
