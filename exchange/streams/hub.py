"""The event loop's side of the streams in one process: open connections, each with
a bounded queue, and the fan-out of what the poller thread hands over.

The poller owns every read and every projection; it posts to the loop, in order,
the frames of each batch and the start of each new connection (its snapshot or the
events it missed), so that a connection is registered exactly after the last frame
its start already holds: no gap and no duplicate. A connection whose queue is full
is dropped (it may resume); a heartbeat comment goes to every connection.
"""

import asyncio
import logging

from django.conf import settings

from exchange.streams.cursors import MarketCursor, PrivateCursor
from exchange.streams.feeds import Frame

log = logging.getLogger(__name__)
PING = ("ping",)
CLOSE = ("close",)
STREAMING = "yiwang.streaming"  # in the ASGI scope of a stream's request


class Connection:
    """One open stream: a queue the hub fills and the response drains, and the
    cursor that writes its frames and keeps its position."""

    def __init__(self, cursor: MarketCursor | PrivateCursor) -> None:
        self.cursor = cursor
        self.queue: asyncio.Queue = asyncio.Queue(settings.EXCHANGE_STREAMS_QUEUE)
        self.task: asyncio.Task | None = None
        self.dropped = False
        self.started = asyncio.get_running_loop().create_future()

    @property
    def market(self) -> bool:
        return isinstance(self.cursor, MarketCursor)

    def push(self, item) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.drop()

    def drop(self) -> None:
        """The client does not read: end its response where it stands (the ASGI
        entry point closes the connection quietly), so it may resume."""
        self.dropped = True
        log.info("dropped a stream whose client did not read")
        if self.task is not None:
            self.task.cancel()

    def render(self, item) -> str:
        return ": ping\n\n" if item is PING else self.cursor.render(item)


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        from exchange.streams.poller import Poller

        self.loop = loop
        self.market: dict[int, set[Connection]] = {}
        self.private: dict[int, set[Connection]] = {}
        self.watched: frozenset[int] = frozenset()
        self.watched_participants: frozenset[int] = frozenset()
        self.poller = Poller(self)
        self.poller.start()
        self.pinger = loop.create_task(self._ping())

    # --- connections (on the loop) ------------------------------------------------
    async def open(self, conn: Connection) -> None:
        self.poller.submit(conn)
        await conn.started

    def close(self, conn: Connection) -> None:
        if conn.market:
            for conns in self.market.values():
                conns.discard(conn)
            self.market = {k: v for k, v in self.market.items() if v}
            self.watched = frozenset(self.market)
        else:
            participant_id = conn.cursor.participant_id
            conns = self.private.get(participant_id, set())
            conns.discard(conn)
            if not conns:
                self.private.pop(participant_id, None)
            self.watched_participants = frozenset(self.private)

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(settings.EXCHANGE_STREAMS_HEARTBEAT_SECONDS)
            for conns in [*self.market.values(), *self.private.values()]:
                for conn in list(conns):
                    conn.push(PING)

    def stop(self) -> None:
        self.pinger.cancel()
        self.poller.stop()
        for conns in [*self.market.values(), *self.private.values()]:
            for conn in conns:
                conn.push(CLOSE)

    # --- from the poller thread ------------------------------------------------------
    def post(self, fn, *args) -> None:
        self.loop.call_soon_threadsafe(fn, *args)

    def market_started(self, conn, ids: list[int], items: list, skip: dict) -> None:
        if conn.started.done():  # gone before it started
            return
        conn.cursor.skip.update(skip)
        for instrument_id in ids:
            self.market.setdefault(instrument_id, set()).add(conn)
        self.watched = frozenset(self.market)
        for item in items:
            conn.push(item)
        conn.started.set_result(None)

    def private_started(self, conn, events: list, start: tuple) -> None:
        if conn.started.done():
            return
        self.private.setdefault(conn.cursor.participant_id, set()).add(conn)
        self.watched_participants = frozenset(self.private)
        points, conn.cursor.settlement, conn.cursor.live = start
        conn.cursor.points.update(points)
        conn.push(("private", events, None))
        conn.started.set_result(None)

    def market_frames(self, instrument_id: int, symbol: str, frames: list[Frame]):
        item = ("frames", symbol, frames)
        for conn in list(self.market.get(instrument_id, ())):
            conn.push(item)

    def market_regions(self, items: list) -> None:
        """Region suspensions and resumptions: to every market stream."""
        for conn in {c for conns in self.market.values() for c in conns}:
            for item in items:
                conn.push(item)

    def private_events(self, participant_id: int, events: list, live) -> None:
        item = ("private", events, live)
        for conn in list(self.private.get(participant_id, ())):
            conn.push(item)

    def failed(self, conn: Connection, exc: BaseException) -> None:
        if not conn.started.done():
            conn.started.set_exception(exc)


_hub: Hub | None = None


def hub_get() -> Hub:
    """This process's hub, started on the running loop the first time."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = Hub(loop)
    return _hub


def hub_stop() -> None:
    global _hub
    if _hub is not None:
        _hub.stop()
        _hub = None
