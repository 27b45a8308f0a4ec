"""Project-level views: the home page, health, and error pages that answer in the API's
envelope under /api/ and in HTML elsewhere."""

import logging
import sys

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error

from core import heartbeat
from market.api.errors import UNAVAILABLE_RETRY_SECONDS, api_server_error
from market.api.errors import api_not_found as _api_not_found

logger = logging.getLogger(__name__)


@never_cache
def healthz(request):
    """200 only when beat's heartbeat task ran on a worker in the last 30 s: proves web,
    worker and beat are all alive. Otherwise 503, saying what is wrong: `down` lists
    the dependencies that do not answer (`database`, `cache`), `stale` a heartbeat
    that is missing or too old."""
    down = [] if _database_answers() else ["database"]
    try:
        age = heartbeat.age_seconds()
    except heartbeat.CACHE_ERRORS:
        logger.warning("healthz: the cache does not answer", exc_info=True)
        down.append("cache")
        age = None
    ok = age is not None and age <= settings.HEARTBEAT_MAX_AGE_SECONDS
    status = "down" if down else "ok" if ok else "stale"
    return JsonResponse(
        {"status": status, "down": down, "heartbeat_age_s": age},
        status=200 if status == "ok" else 503,
    )


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.warning("healthz: the database does not answer", exc_info=True)
        return False
    return True


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
    # Django calls this handler while handling the exception, so it is at hand: a
    # middleware that found the database gone (one reading the user) is a 503 too.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable(request)
    return html_server_error(request)


def database_unavailable(request):
    """The 503 page of a database that does not answer, with Retry-After. It reads
    neither the session nor the user, which would ask the database again."""
    response = render(request, "503.html", status=503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
    return response
