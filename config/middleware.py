"""Input hygiene before anything else reads the request.

PostgreSQL rejects NUL in text, and a NUL that reached a query would be a 500; so any
U+0000 in the path, the query string or the body is refused with a 400
`invalid_character`. Outside the API at once; under /api/ the request is marked and
the API refuses it after authentication and permissions
(`market.api.throttles.RejectNul`, the first check after them), so that a request
without a key still gets its 401 first, as API.md orders the refusals.
"""

from django.http import HttpResponseBadRequest

from market.exceptions import InvalidCharacter

NUL_MARKERS = (b"\x00", b"\\u0000", b"%00")
NUL_FOUND = "yiwang.nul_found"  # request.META key of a marked API request


def _has_nul(raw: bytes) -> bool:
    lowered = raw.lower()
    return any(marker in lowered for marker in NUL_MARKERS)


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.META.get("PATH_INFO", "").encode("utf-8", "surrogateescape")
        query = request.META.get("QUERY_STRING", "").encode("latin-1", "ignore")
        body = request.body if request.method in ("POST", "PUT", "PATCH") else b""
        if _has_nul(path) or _has_nul(query) or _has_nul(body):
            if not request.path_info.startswith("/api/"):
                return HttpResponseBadRequest(InvalidCharacter.__doc__)
            request.META[NUL_FOUND] = True
        return self.get_response(request)
