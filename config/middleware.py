"""Input hygiene before anything else reads the request, the Content-Security-Policy
header, the second factor staff need for the admin, and a 503 page when the database
does not answer.

PostgreSQL rejects NUL in text, and a NUL that reached a query would be a 500; so any
U+0000 in the path, the query string or the body is refused with a 400
`invalid_character`. Outside the API at once; under /api/ the request is marked and
the API refuses it after authentication and permissions
(`market.api.throttles.RejectNul`, the first check after them), so that a request
without a key still gets its 401 first, as API.md orders the refusals.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.middleware import csp
from django.urls import reverse
from django_otp import user_has_device

from config.views import database_unavailable
from core.nul import NUL_FOUND, has_nul
from market.exceptions import InvalidCharacter

logger = logging.getLogger(__name__)


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.META.get("PATH_INFO", "").encode("utf-8", "surrogateescape")
        query = request.META.get("QUERY_STRING", "").encode("latin-1", "ignore")
        body = request.body if request.method in ("POST", "PUT", "PATCH") else b""
        if has_nul(path) or has_nul(query) or has_nul(body):
            if not request.path_info.startswith("/api/"):
                return HttpResponseBadRequest(InvalidCharacter.__doc__)
            request.META[NUL_FOUND] = True
        return self.get_response(request)


class ContentSecurityPolicyMiddleware(csp.ContentSecurityPolicyMiddleware):
    """Django's SECURE_CSP, with the streams process's origin (EXCHANGE_STREAMS_URL,
    read at each response like every setting) allowed to connect: the live pages
    open their Server-Sent Events there. A view's own policy (csp_override) wins."""

    def process_response(self, request, response):
        if not hasattr(response, "_csp_config"):
            response._csp_config = _policy_with_streams()
        return super().process_response(request, response)


def _policy_with_streams() -> dict:
    policy = settings.SECURE_CSP
    origin = "/".join(settings.EXCHANGE_STREAMS_URL.split("/")[:3])
    if not policy or not origin:
        return policy
    connect = policy.get("connect-src", policy.get("default-src", []))
    return {**policy, "connect-src": [*connect, origin]}


class StaffSecondFactorMiddleware:
    """Staff get nothing from the admin (its custom pages included) until they
    have entered a TOTP code in this session (django-otp's OTPMiddleware, listed
    before this one, says whether they have): without a device they are sent to
    enrol one, with one to enter its code. Logging out stays open; other users
    and other pages are untouched, and only admin requests read the user."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.paths: tuple[str, str] | None = None  # the admin's root and logout

    def __call__(self, request):
        if self.paths is None:  # reversed once: this runs before every request
            self.paths = (reverse("admin:index"), reverse("admin:logout"))
        root, logout = self.paths
        path = request.path_info
        if path.startswith(root) and path != logout:
            user = request.user
            if user.is_authenticated and user.is_staff and not user.is_verified():
                step = "otp-verify" if user_has_device(user) else "otp-setup"
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse(step)}?{query}")
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A web page whose view finds the database not answering (restarting, failing
    over, a statement timeout) is a 503 with Retry-After, not a 500: nothing is
    wrong with the request, and reloading shortly will do (config.views.
    database_unavailable; the 500 handler does the same for a middleware that
    failed so). Under /api/ the API's own handler answers in its envelope."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path_info.startswith("/api/"):
            return None
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning(
            "%s: the database does not answer", request.path, exc_info=exception
        )
        return database_unavailable(request)
