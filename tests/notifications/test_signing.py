"""The webhook signature as a receiver checks it with `verify_signature` (no
database: the helper is meant to be copied as it is)."""

import json

from market.notifications.signing import signed_headers, verify_signature

SECRET = "whsec_test-secret"
BODY = json.dumps({"id": "evt_fill_1_2", "type": "fill", "data": {}}).encode()
NOW = 1_765_188_000


def test_verify_signature_accepts_a_good_request():
    """A request signed with the secret just now is accepted."""
    headers = signed_headers(SECRET, "evt_fill_1_2", BODY, timestamp=NOW)
    assert headers["Yiwang-Signature"].startswith(f"t={NOW},v1=")
    assert headers["Yiwang-Event-Id"] == "evt_fill_1_2"
    assert verify_signature(SECRET, headers, BODY, now=NOW + 3)


def test_verify_signature_reads_headers_in_any_case():
    """HTTP header names are case-insensitive; so is the check."""
    headers = signed_headers(SECRET, "evt_fill_1_2", BODY, timestamp=NOW)
    lower = {k.lower(): v for k, v in headers.items()}
    assert verify_signature(SECRET, lower, BODY, now=NOW)


def test_verify_signature_refuses_a_tampered_body():
    headers = signed_headers(SECRET, "evt_fill_1_2", BODY, timestamp=NOW)
    tampered = BODY.replace(b"fill", b"fall")
    assert not verify_signature(SECRET, headers, tampered, now=NOW)


def test_verify_signature_refuses_a_tampered_event_id():
    """The event id is signed too: a receiver's replay check cannot be dodged by
    sending the same body under another id."""
    headers = signed_headers(SECRET, "evt_fill_1_2", BODY, timestamp=NOW)
    headers["Yiwang-Event-Id"] = "evt_fill_1_3"
    assert not verify_signature(SECRET, headers, BODY, now=NOW)


def test_verify_signature_refuses_a_wrong_secret():
    headers = signed_headers("whsec_someone-else", "evt_fill_1_2", BODY, timestamp=NOW)
    assert not verify_signature(SECRET, headers, BODY, now=NOW)


def test_verify_signature_refuses_a_replayed_old_request():
    """A request captured and sent again later than the tolerance is refused, and
    so is one whose time was moved forward (the signature no longer matches)."""
    headers = signed_headers(SECRET, "evt_fill_1_2", BODY, timestamp=NOW)
    assert verify_signature(SECRET, headers, BODY, tolerance=300, now=NOW + 300)
    assert not verify_signature(SECRET, headers, BODY, tolerance=300, now=NOW + 301)
    moved = dict(headers)
    moved["Yiwang-Signature"] = headers["Yiwang-Signature"].replace(
        f"t={NOW}", f"t={NOW + 600}"
    )
    assert not verify_signature(SECRET, moved, BODY, now=NOW + 600)


def test_verify_signature_refuses_missing_or_garbled_headers():
    headers = signed_headers(SECRET, "evt_fill_1_2", BODY, timestamp=NOW)
    assert not verify_signature(SECRET, {}, BODY, now=NOW)
    assert not verify_signature(
        SECRET, {**headers, "Yiwang-Signature": "t=abc,v1=00"}, BODY, now=NOW
    )
    no_id = {"Yiwang-Signature": headers["Yiwang-Signature"]}
    assert not verify_signature(SECRET, no_id, BODY, now=NOW)
