"""One instrument's market feed in a process: its projection kept current with the
event log, and a ring of its latest events encoded once for every connection.

A client resumes from the ring when its position is at or after the ring's floor
(the last event the ring let go, or where the feed started); further behind, it gets
a fresh snapshot marked `reset`. A feed starts by replaying the whole log when it is
short enough, so that any position at all resumes exactly; a longer log starts from
the open orders, and positions before that are too far behind.
"""

import json
from collections import deque
from dataclasses import dataclass

from exchange.streams import log
from exchange.streams.positions import Point
from exchange.streams.projection import Projector, StreamEvent


def dumps(data) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


@dataclass(slots=True)
class Frame:
    """One stream event, encoded once: `single` is the whole SSE frame for the
    connections that stream this instrument alone."""

    symbol: str
    seq: int
    n: int
    name: str
    data: str
    single: str


def frame(symbol: str, seq: int, n: int, name: str, data: dict) -> Frame:
    body = dumps(data)
    single = f"id: {symbol}:{seq}.{n}\nevent: {name}\ndata: {body}\n\n"
    return Frame(symbol, seq, n, name, body, single)


def region_item(code: str, reason: str | None) -> tuple[str, str]:
    """A `region` event: the region suspended (with the operator's reason) or not."""
    data = {"region": code, "suspended": reason is not None, "reason": reason or ""}
    return ("region", dumps(data))


def read_range(head: log.Head, after: int, chunk: int):
    """Log rows after `after` up to what has committed, with their trades."""
    rows: list = []
    while True:
        part, complete = log.rows_after(head.pk, rows[-1][0] if rows else after, chunk)
        rows += part
        if complete:
            break
    trades = log.trades_between(head, after, rows[-1][0]) if rows else {}
    return rows, trades


class MarketFeed:
    def __init__(self, head: log.Head, *, ring: int) -> None:
        self.head = head
        self.symbol = head.symbol
        self.state = head.state
        self.projector = Projector(head.symbol, head.tick, head.lot)
        self.ring: deque[Frame] = deque()
        self.ring_size = ring
        self.floor: Point = (0, 0)
        self.idle_since: float | None = None

    @classmethod
    def build(cls, head: log.Head, *, ring: int, replay_limit: int, chunk: int):
        """A feed current with the log (the caller advances it from then on)."""
        feed = cls(head, ring=ring)
        if head.sequence > replay_limit:
            resting, seq = log.resting(head)
            counter = Projector(head.symbol, head.tick, head.lot, lenient=True)
            counter.project(log.last_command(head.pk, seq), {})
            feed.projector.restore(resting, counter.point if seq else (0, 0))
            feed.floor = feed.projector.point
        rows, trades = read_range(head, feed.point[0], chunk)
        feed.advance(rows, trades)
        return feed

    @property
    def point(self) -> Point:
        return self.projector.point

    def advance(self, rows: list, trades: dict) -> list[Frame]:
        """Fold the rows after the feed's point into frames, kept in the ring."""
        rows = [row for row in rows if row[0] > self.point[0]]
        if not rows:
            return []
        prints = {seq: t["print"] for seq, t in trades.items()}
        frames = [self._frame(e) for e in self.projector.project(rows, prints)]
        for f in frames:
            if len(self.ring) >= self.ring_size:
                old = self.ring.popleft()
                self.floor = (old.seq, old.n)
            self.ring.append(f)
        return frames

    def _frame(self, event: StreamEvent) -> Frame:
        return frame(self.symbol, event.seq, event.n, event.name, event.data)

    def since(self, point: Point) -> list[Frame] | None:
        """The frames after `point`, or None when the ring no longer holds them all.
        A point ahead of the feed (another process's, a little further on) gives
        none: the caller skips what follows up to it."""
        if point < self.floor:
            return None
        out = []
        for f in reversed(self.ring):
            if (f.seq, f.n) <= point:
                break
            out.append(f)
        out.reverse()
        return out

    def snapshot(self, *, reset: bool = False) -> Frame:
        data = self.projector.snapshot() | {"state": self.state}
        if reset:
            data["reset"] = True
        return frame(self.symbol, *self.point, "book", data)

    def state_frame(self) -> Frame:
        data = {"symbol": self.symbol, "seq": self.point[0], "state": self.state}
        return frame(self.symbol, *self.point, "state", data)
