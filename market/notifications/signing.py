"""Webhook signatures: HMAC-SHA256 with the participant's secret over
`<timestamp>.<event id>.<body>`, sent as

    Yiwang-Signature: t=<unix seconds>,v1=<hex digest>
    Yiwang-Event-Id: <event id>

The timestamp lets a receiver refuse an old request (a replay) and the event id,
which is also the idempotency key, lets it refuse a repeated one within the
tolerance. `verify_signature` uses only the standard library, so a receiver can copy
it as it is (docs/notifications.md).
"""

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "Yiwang-Signature"
EVENT_ID_HEADER = "Yiwang-Event-Id"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, event_id: str, body: bytes) -> str:
    signed = f"{timestamp}.{event_id}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, event_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of one attempt (each attempt is signed at its own time)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = signature(secret, timestamp, event_id, body)
    return {
        SIGNATURE_HEADER: f"t={timestamp},v1={digest}",
        EVENT_ID_HEADER: event_id,
    }


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when `body` and the event id were signed with `secret` no more than
    `tolerance` seconds ago (or ahead). Compare in constant time; keep the event ids
    you accepted for `tolerance` seconds and refuse one that comes again."""
    lower = {k.lower(): v for k, v in headers.items()}
    event_id = lower.get(EVENT_ID_HEADER.lower(), "")
    parts = dict(
        item.split("=", 1)
        for item in lower.get(SIGNATURE_HEADER.lower(), "").split(",")
        if "=" in item
    )
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if not event_id or abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, event_id, body)
    return hmac.compare_digest(expected, parts.get("v1", ""))
