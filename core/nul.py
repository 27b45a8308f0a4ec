"""U+0000 in a request: PostgreSQL rejects NUL in text, so a request carrying one is
refused. The middleware (config) finds and marks it; the API refuses a marked request
after authentication (market.api.throttles.RejectNul)."""

NUL_MARKERS = (b"\x00", b"\\u0000", b"%00")
NUL_FOUND = "yiwang.nul_found"  # request.META key of a marked API request


def has_nul(raw: bytes) -> bool:
    lowered = raw.lower()
    return any(marker in lowered for marker in NUL_MARKERS)
