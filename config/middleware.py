"""Input hygiene before anything else reads the request, and the
Content-Security-Policy header.

PostgreSQL rejects NUL in text, and a NUL that reached a query would be a 500; so any
U+0000 in the path, the query string or the body is refused with a 400
`invalid_character`. Outside the API at once; under /api/ the request is marked and
the API refuses it after authentication and permissions
(`market.api.throttles.RejectNul`, the first check after them), so that a request
without a key still gets its 401 first, as API.md orders the refusals.
"""

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.middleware import csp

from core.nul import NUL_FOUND, has_nul
from market.exceptions import InvalidCharacter


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
