"""What a stream writes: its frames, each with the stream's whole position as `id:`.
A cursor keeps that position as frames go out; it knows nothing of queues, so the
live streams and the one-shot responses write alike."""

import time

from exchange.streams.positions import Point, PrivatePosition, market_format


class MarketCursor:
    def __init__(self, symbols: list[str], points: dict[str, Point]) -> None:
        self.symbols = symbols
        self.points = dict(points)
        self.skip: dict[str, Point] = {}
        self.single = len(symbols) == 1

    def render(self, item) -> str:
        if item[0] == "region":  # a state, not a position: no id, resuming resends it
            return f"event: region\ndata: {item[1]}\n\n"
        _kind, symbol, frames = item
        out = []
        skip = self.skip.get(symbol)
        for f in frames:
            point = (f.seq, f.n)
            if skip is not None:  # resumed ahead of this process: seen already
                if point <= skip:
                    continue
                del self.skip[symbol]
                skip = None
            self.points[symbol] = point
            if self.single:
                out.append(f.single)
            else:
                position = market_format(self.symbols, self.points)
                out.append(f"id: {position}\nevent: {f.name}\ndata: {f.data}\n\n")
        return "".join(out)


class PrivateCursor:
    def __init__(self, participant_id: int, resume_from: PrivatePosition | None):
        self.participant_id = participant_id
        self.resume_from = resume_from
        self.points: dict[int, Point] = {}
        self.settlement = (0, 0, 0)
        self.live: frozenset[int] = frozenset()

    def render(self, item) -> str:
        """Events `(instrument id, seq, name, data)`; delivery and settlement events
        carry their own point as `seq` and no instrument."""
        _kind, events, live = item
        if live is not None:
            self.live = live
        out = []
        for instrument_id, seq, name, data in events:
            if instrument_id is None:
                self.settlement = seq
            else:
                at, count = self.points.get(instrument_id, (seq, 0))
                self.points[instrument_id] = (seq, count + 1 if at == seq else 1)
            out.append(f"id: {self.position()}\nevent: {name}\ndata: {data}\n\n")
        return "".join(out)

    def position(self) -> str:
        points = {i: p for i, p in self.points.items() if i in self.live}
        now_ms = int(time.time() * 1000)
        return PrivatePosition(now_ms, points, self.settlement).format()
