"""The one thread per process that reads the event log for the streams.

It wakes when a commit is published on Redis (`publish`), or every poll interval
(`EXCHANGE_STREAMS_POLL_SECONDS`; with Redis a slower safety poll, since a missed
message only delays a read), reads each watched instrument's new rows once, folds
them into its market feed and the private events of the connected participants,
and posts the frames to the loop. It also opens connections: their snapshots or
the events they missed are read here, in the same order as everything else.
"""

import logging
import queue
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from exchange.streams import log, private
from exchange.streams.feeds import MarketFeed, read_range, region_item
from exchange.streams.pubsub import Listener

logger = logging.getLogger(__name__)
FEED_IDLE_SECONDS = 300  # a feed outlives its last connection, for resumes


class Poller(threading.Thread):
    def __init__(self, hub) -> None:
        super().__init__(name="streams-poller", daemon=True)
        self.hub = hub
        self.requests: queue.SimpleQueue = queue.SimpleQueue()
        self.wake = threading.Event()
        self.stopping = False
        self.feeds: dict[int, MarketFeed] = {}
        self.private_heads: dict[int, int] | None = None
        self.settled: tuple | None = None  # deliveries and settlements routed
        self.settled_read = 0.0
        self.heads: dict[int, log.Head] = {}
        self.suspended: dict[str, str] | None = None  # region code: reason
        self.suspended_read = 0.0
        self.opening: list = []  # private streams started here, not yet on the loop
        self.listener = Listener(self.wake) if settings.REDIS_URL else None

    def submit(self, request) -> None:
        self.requests.put(request)
        self.wake.set()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        if self.listener is not None:
            self.listener.stop()

    def run(self) -> None:
        if self.listener is not None:
            self.listener.start()
        while not self.stopping:
            self.wake.wait(self._interval())
            self.wake.clear()
            try:
                self._cycle()
            except Exception:
                logger.exception("streams: reading the event log failed; retrying")
                close_old_connections()
                connection.close()
                time.sleep(1)
        connection.close()

    def _interval(self) -> float:
        if self.listener is not None and self.listener.healthy:
            return settings.EXCHANGE_STREAMS_SAFETY_POLL_SECONDS
        return settings.EXCHANGE_STREAMS_POLL_SECONDS

    def _wanted(self) -> frozenset[int]:
        """The participants whose events are read: those with a stream on the loop,
        and those whose stream starts from what this thread has read so far but
        that the loop has not registered yet (what follows is theirs already)."""
        self.opening = [c for c in self.opening if not c.started.done()]
        pending = {c.cursor.participant_id for c in self.opening}
        return self.hub.watched_participants | pending  # read after the pruning

    def _cycle(self) -> None:
        self._serve_requests()
        wanted = self._wanted()
        watching = bool(wanted)
        if not watching:
            self.private_heads, self.settled = None, None
            if not self.feeds:
                return  # nothing open, nothing kept for resumes
        for head in self._read_heads(watching=watching):
            self._advance(head, wanted)
        if self.hub.watched and time.monotonic() - self.suspended_read >= 1:
            self._route_regions()
        if watching and time.monotonic() - self.settled_read >= 1:
            self._route_settlement(wanted)
        self._forget_idle()

    def _route_settlement(self, wanted: frozenset[int]) -> None:
        self.settled_read = time.monotonic()
        until = private.settlement_until()
        rendered = private.settlement_events(wanted, self.settled, until)
        self.settled = until
        live = frozenset(self.private_heads or ())
        for participant_id, events in rendered.items():
            self.hub.post(self.hub.private_events, participant_id, events, live)

    def _route_regions(self) -> None:
        """`region` events for the suspensions and resumptions since the last read."""
        self.suspended_read = time.monotonic()
        now = log.regions_suspended()
        before, self.suspended = self.suspended, now
        if before is None:
            return  # the streams open with the current suspensions
        changed = [
            region_item(code, now.get(code))
            for code in sorted(before.keys() | now.keys())
            if before.get(code) != now.get(code)
        ]
        if changed:
            self.hub.post(self.hub.market_regions, changed)

    def _read_heads(self, *, watching: bool) -> list[log.Head]:
        since = None
        if watching:
            margin = settings.EXCHANGE_STREAMS_CLOSED_MARGIN_SECONDS
            since = timezone.now() - timedelta(seconds=margin)
        heads = log.heads(ids=self.feeds, active_since=since)
        self.heads = {h.pk: h for h in heads}
        if watching:
            if self.private_heads is None:
                self.private_heads = {h.pk: h.sequence for h in heads}
                self.settled = private.settlement_until()
            self.private_heads = {
                h.pk: self.private_heads.get(h.pk, 0) for h in heads
            }  # an instrument listed since: all of its events are new
        return heads

    # --- reading on -----------------------------------------------------------------
    def _advance(self, head: log.Head, wanted: frozenset[int]) -> None:
        feed = self.feeds.get(head.pk)
        private_at = (self.private_heads or {}).get(head.pk)
        low = [p for p in (feed and feed.point[0], private_at) if p is not None]
        if low and head.sequence > min(low):
            rows, trades = read_range(head, min(low), settings.EXCHANGE_STREAMS_CHUNK)
            if feed is not None:
                self._post_frames(feed, feed.advance(rows, trades))
            if private_at is not None:
                rows = [r for r in rows if r[0] > private_at]
                self._route(head, rows, trades, wanted)
        if feed is not None and head.state != feed.state:
            feed.state = head.state
            self._post_frames(feed, [feed.state_frame()])

    def _post_frames(self, feed: MarketFeed, frames: list) -> None:
        if frames:
            self.hub.post(self.hub.market_frames, feed.head.pk, feed.symbol, frames)

    def _route(self, head: log.Head, rows: list, trades: dict, wanted) -> None:
        if not rows:
            return
        self.private_heads[head.pk] = rows[-1][0]
        rendered = private.render(rows, trades, wanted)
        live = frozenset(self.private_heads)
        for participant_id, events in rendered.items():
            tagged = [(head.pk, seq, name, data) for seq, name, data in events]
            self.hub.post(self.hub.private_events, participant_id, tagged, live)

    def _forget_idle(self) -> None:
        now, watched = time.monotonic(), self.hub.watched
        for pk, feed in list(self.feeds.items()):
            if pk in watched:
                feed.idle_since = None
            elif feed.idle_since is None:
                feed.idle_since = now
            elif now - feed.idle_since > FEED_IDLE_SECONDS:
                del self.feeds[pk]

    # --- opening connections -------------------------------------------------------
    def _serve_requests(self) -> None:
        while True:
            try:
                conn = self.requests.get_nowait()
            except queue.Empty:
                return
            try:
                if conn.market:
                    self._open_market(conn)
                else:
                    self._open_private(conn)
            except Exception as exc:
                logger.exception("streams: could not open a stream")
                self.hub.post(self.hub.failed, conn, exc)

    def _feed(self, head: log.Head) -> MarketFeed:
        feed = self.feeds.get(head.pk)
        if feed is None:
            feed = MarketFeed.build(
                head,
                ring=settings.EXCHANGE_STREAMS_RING,
                replay_limit=settings.EXCHANGE_STREAMS_REPLAY_LIMIT,
                chunk=settings.EXCHANGE_STREAMS_CHUNK,
            )
            self.feeds[head.pk] = feed
        else:  # catch up first: what others have not been sent yet is theirs
            rows, trades = read_range(
                head, feed.point[0], settings.EXCHANGE_STREAMS_CHUNK
            )
            self._post_frames(feed, feed.advance(rows, trades))
        return feed

    def _open_market(self, conn) -> None:
        cursor = conn.cursor
        heads = {h.symbol: h for h in log.heads(symbols=cursor.symbols)}
        ids, items, skip = [], [], {}
        for symbol in cursor.symbols:
            head = heads[symbol]
            feed = self._feed(head)
            ids.append(head.pk)
            point = cursor.points.pop(symbol, None)
            frames = None if point is None else feed.since(point)
            if frames is None or point[0] > head.sequence:
                snapshot = feed.snapshot(reset=point is not None)
                items.append(("frames", symbol, [snapshot]))
                continue
            cursor.points[symbol] = point
            if point > feed.point:
                skip[symbol] = point
            items.append(("frames", symbol, [*frames, feed.state_frame()]))
        if self.suspended is None:
            self.suspended, self.suspended_read = (
                log.regions_suspended(),
                time.monotonic(),
            )
        items += [region_item(code, r) for code, r in sorted(self.suspended.items())]
        self.hub.post(self.hub.market_started, conn, ids, items, skip)

    def _open_private(self, conn) -> None:
        if self.private_heads is None:
            self._read_heads(watching=True)
        heads = [self.heads[pk] for pk in self.private_heads]
        base = dict(self.private_heads)
        events, points = private.resume(heads, base, self.settled, conn.cursor)
        live = frozenset(base)
        start = (points, self.settled, live)
        self.opening.append(conn)
        self.hub.post(self.hub.private_started, conn, events, start)
