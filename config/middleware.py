"""Input hygiene before anything else reads the request.

PostgreSQL rejects NUL in text, and a NUL that reached a query would be a 500; so any
U+0000 in the path, the query string or the body is refused up front with a 400
`invalid_character` (in the API's envelope under /api/).
"""

from django.http import HttpResponseBadRequest, JsonResponse

NUL_MARKERS = (b"\x00", b"\\u0000", b"%00")


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
            message = "NUL characters (U+0000) are not accepted."
            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    {
                        "error": {
                            "code": "invalid_character",
                            "message": message,
                            "fields": {},
                        }
                    },
                    status=400,
                )
            return HttpResponseBadRequest(message)
        return self.get_response(request)
