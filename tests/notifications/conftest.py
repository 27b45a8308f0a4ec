"""Notification fixtures: a real HTTP receiver on loopback (a thread running
http.server), loopback allowed for webhooks (a test setting), and a helper that
turns a participant's notifications on through the service."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from exchange.notifications import fills
from market.notifications import services


class Receiver:
    """Answers each POST with the next of `statuses` (then 200), and keeps what it
    received: (headers, body bytes)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[tuple[dict, bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append((dict(self.headers), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/yiwang"

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _h, body in self.received]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def loopback(settings):
    """Webhooks to 127.0.0.1 allowed (only here), and who has notifications on
    read afresh at every commit."""
    settings.NOTIFICATIONS_ALLOW_LOOPBACK = True
    settings.NOTIFICATIONS_SUBSCRIBERS_TTL_SECONDS = 0
    yield settings
    # This test's subscribers must not be taken for the next test's participants.
    fills._subscribers = (float("-inf"), frozenset())


def subscribe(participant, *, url="", email="", categories=None):
    """Turn notifications on; returns the signing secret (None without a URL)."""
    with transaction.atomic():
        _found, secret = services.settings_update(
            participant=participant,
            email_enabled=bool(email),
            email=email,
            webhook_enabled=bool(url),
            webhook_url=url,
            categories=categories or ["fills", "deadlines", "disputes", "settlements"],
            language="en",
        )
    return secret
