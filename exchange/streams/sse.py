"""The streams' HTTP responses: live under ASGI (the streams process), one read of
the log under WSGI, where a worker thread must not be held open: there a market
stream is a snapshot and a private stream the events missed since Last-Event-ID,
then the response ends and `retry:` has the client come back (polling, in effect).
"""

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework.exceptions import Throttled

from exchange.streams import log, private
from exchange.streams.cursors import MarketCursor, PrivateCursor
from exchange.streams.feeds import MarketFeed, region_item
from exchange.streams.hub import CLOSE, STREAMING, Connection, hub_get

RETRY_LIVE_MS = 1000
RETRY_ONE_SHOT_MS = 2000
_open: Counter = Counter()
_open_lock = threading.Lock()


def is_live(request) -> bool:
    """Served by the ASGI streams process (else by a WSGI worker)."""
    return hasattr(request, "scope")


class Slot:
    """One open stream counted against `key` (a participant, or a client address),
    released once, whichever ends first: the body, or the response's close."""

    def __init__(self, key: str) -> None:
        with _open_lock:
            if _open[key] >= settings.EXCHANGE_STREAMS_PER_PARTICIPANT:
                raise Throttled(
                    wait=5, detail="Too many open streams: close one, or wait for it."
                )
            _open[key] += 1
        self.key: str | None = key

    def release(self) -> None:
        with _open_lock:
            if self.key is not None:
                _open[self.key] -= 1
                if _open[self.key] <= 0:
                    del _open[self.key]
                self.key = None


class _StreamResponse(StreamingHttpResponse):
    def __init__(self, body, slot: Slot | None = None) -> None:
        super().__init__(body, content_type="text/event-stream")
        self["Cache-Control"] = "no-cache"
        self["X-Accel-Buffering"] = "no"  # a proxy in front must not buffer it
        self.slot = slot

    def close(self) -> None:
        if self.slot is not None:  # the body may never have started
            self.slot.release()
        super().close()


def stream_response(request, cursor: MarketCursor | PrivateCursor, key: str):
    """A live stream in the streams process, else a one-shot answer."""
    if not is_live(request):
        if isinstance(cursor, MarketCursor):
            return _StreamResponse(_one_shot_market(cursor))
        return _StreamResponse(_one_shot_private(cursor))
    slot = Slot(key)
    connections.close_all()  # an open stream holds no database connection
    return _StreamResponse(_live(request, cursor, slot), slot)


async def _live(request, cursor, slot: Slot) -> AsyncIterator[str]:
    hub, conn = hub_get(), None
    try:
        conn = Connection(cursor)
        conn.task = asyncio.current_task()
        request.scope[STREAMING] = True
        await hub.open(conn)
        yield f"retry: {RETRY_LIVE_MS}\n\n"
        if isinstance(cursor, PrivateCursor):
            yield f"id: {cursor.position()}\n\n"  # where it starts, before any event
        async for chunk in _drain(conn):
            yield chunk
    finally:
        if conn is not None:
            if not conn.started.done():
                conn.started.cancel()
            hub.close(conn)
        slot.release()


async def _drain(conn: Connection) -> AsyncIterator[str]:
    """What the hub queued, a whole backlog per write."""
    while True:
        item = await conn.queue.get()
        parts = []
        while item is not CLOSE:
            parts.append(conn.render(item))
            if conn.queue.empty():
                break
            item = conn.queue.get_nowait()
        if parts:
            yield "".join(parts)
        if item is CLOSE:
            return


def _one_shot_market(cursor: MarketCursor) -> Iterator[str]:
    yield f"retry: {RETRY_ONE_SHOT_MS}\n\n"
    heads = {h.symbol: h for h in log.heads(symbols=cursor.symbols)}
    chunk = settings.EXCHANGE_STREAMS_CHUNK
    for symbol in cursor.symbols:
        feed = MarketFeed.build(heads[symbol], ring=1, replay_limit=-1, chunk=chunk)
        snapshot = feed.snapshot(reset=symbol in cursor.points)
        yield cursor.render(("frames", symbol, [snapshot]))
    for code, reason in sorted(log.regions_suspended().items()):
        yield cursor.render(region_item(code, reason))


def _one_shot_private(cursor: PrivateCursor) -> Iterator[str]:
    yield f"retry: {RETRY_ONE_SHOT_MS}\n\n"
    margin = timedelta(seconds=settings.EXCHANGE_STREAMS_CLOSED_MARGIN_SECONDS)
    heads = log.heads(active_since=timezone.now() - margin)
    base, settled = {h.pk: h.sequence for h in heads}, private.settlement_until()
    events, points = private.resume(heads, base, settled, cursor)
    cursor.points, cursor.live, cursor.settlement = points, frozenset(base), settled
    yield f"id: {cursor.position()}\n\n"
    yield cursor.render(("private", events, None))
