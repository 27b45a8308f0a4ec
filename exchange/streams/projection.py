"""The market stream's events, folded from the event log (pure: no database).

Each log row `(seq, kind, order_id, data)` yields stream events numbered per sequence
number from 0: a fill gives its `trade` and the `level` its maker rests at; a cancel,
an expiry or an amend that keeps priority gives one `level`. An incoming order (an
accept, or an amend that lost priority) is not in the book while it takes: it joins
its level once its fills are done, as the last event of its last fill (or of the
accept itself), and only if it may rest (GTC or GTD) with something left. So levels
never show a book crossed by an order still matching, and the numbering depends only
on the log: every process and every replay gives each event the same `<seq>.<n>`.

The rows given to `project` must end where a transaction committed (all of a
command's events commit together): an order's fills all come before the next accept
or amend, or the end of what committed.
"""

from dataclasses import dataclass
from decimal import Decimal

from exchange.streams.positions import Point

RESTING_TIFS = ("GTC", "GTD")


class ProjectionError(ValueError):
    """The rows do not follow the state (a gap, or an order the book never had)."""


@dataclass(slots=True)
class StreamEvent:
    seq: int
    n: int
    name: str  # "trade" or "level"
    data: dict


@dataclass(slots=True)
class _Taker:
    order_id: int
    key: tuple
    remaining: int
    rests: bool
    at: int  # index in the output after the events of its last row
    seq: int  # that row's sequence number


class Projector:
    """One instrument's aggregated book as the log has it, and its numbering.

    `lenient` (counting only): rows that name orders the state does not hold still
    yield their events, with placeholder levels."""

    def __init__(self, symbol: str, tick: Decimal, lot: Decimal, *, lenient=False):
        self.symbol, self.tick, self.lot, self.lenient = symbol, tick, lot, lenient
        self.orders: dict[int, list] = {}  # id -> [level key, remaining lots]
        self.levels: dict[tuple, int] = {}  # (side, price, region, stack) -> lots
        self.point: Point = (0, 0)

    # --- state ---------------------------------------------------------------------
    def restore(self, resting, point: Point) -> None:
        """The book at `point` from its open orders: `(id, side, price ticks, region,
        stack, remaining lots)` each."""
        for order_id, side, price, region, stack, remaining in resting:
            key = (side, price, region, stack if side == "sell" else None)
            self.orders[order_id] = [key, remaining]
            self.levels[key] = self.levels.get(key, 0) + remaining
        self.point = point

    def snapshot(self) -> dict:
        """The `book` event's data: every level, as `GET .../book/` lists them."""
        asks = sorted(
            (k for k, q in self.levels.items() if q and k[0] == "sell"),
            key=lambda k: (k[1], k[2], k[3]),
        )
        bids = sorted(
            (k for k, q in self.levels.items() if q and k[0] == "buy"),
            key=lambda k: (-k[1], k[2]),
        )
        return {
            "symbol": self.symbol,
            "seq": self.point[0],
            "asks": [self._level_row(k) | {"stack": k[3]} for k in asks],
            "bids": [self._level_row(k) for k in bids],
        }

    def _level_row(self, key: tuple) -> dict:
        return {
            "price": str(key[1] * self.tick),
            "quantity": str(self.levels.get(key, 0) * self.lot),
            "region": key[2],
        }

    # --- folding -------------------------------------------------------------------
    def project(self, rows: list, trades: dict[int, dict]) -> list[StreamEvent]:
        """Fold rows `(seq, kind, order_id, data, ...)`, consecutive after
        `self.point`, into stream events; `trades` holds the public print of each
        fill by sequence number."""
        out: list[StreamEvent] = []
        self._counts: dict[int, int] = {}
        taker: _Taker | None = None
        last = self.point[0]
        for row in rows:
            seq, kind, order_id, data = row[:4]
            if seq != last + 1 and not self.lenient:
                raise ProjectionError(f"{self.symbol}: row {seq} after {last}")
            last = seq
            starts = kind == "accepted" or (
                kind == "amended" and data["priority_seq"] == seq
            )
            if starts:
                self._rest(taker, out)
                taker = self._taker(seq, order_id, kind, data, out)
            elif kind == "fill":
                self._fill(seq, data, trades.get(seq), taker, out)
            elif _remainder_cancelled(taker, order_id, kind, data):
                taker.rests = False  # an IOC's remainder: it never rested
            else:
                if taker is not None and order_id == taker.order_id:
                    self._rest(taker, out)  # a later command: it rested before
                    taker = None
                self._single(seq, kind, order_id, data, out)
        self._rest(taker, out)
        if rows:
            self.point = (last, max(self._counts.get(last, 0) - 1, 0))
        return out

    def _taker(self, seq, order_id, kind, data, out) -> _Taker:
        if kind == "accepted":
            spec = data["order"]
            side = spec["side"]
            stack = spec["stack"] if side == "sell" else None
            key = (side, spec["price"], spec["region"], stack)
            remaining, rests = spec["quantity"], spec["tif"] in RESTING_TIFS
        else:  # an amend that lost priority leaves its level, then takes anew
            old = self._pop(order_id, out, seq)
            key = (old[0], data["price"], *old[2:]) if old else ("?", 0, "?", None)
            remaining, rests = data["remaining"], True
        return _Taker(order_id, key, remaining, rests, len(out), seq)

    def _fill(self, seq, data, trade, taker: _Taker | None, out) -> None:
        out.append(self._event(seq, "trade", trade or {"symbol": self.symbol}))
        took = False
        for side in ("buy", "sell"):
            order_id, remaining = data[f"{side}_order_id"], data[f"{side}_remaining"]
            if taker is not None and order_id == taker.order_id:
                taker.remaining, took = remaining, True
            else:
                self._set(order_id, remaining, out, seq)
        if took:  # the taker joins its level after this fill's events, if it rests
            taker.at, taker.seq = len(out), seq

    def _single(self, seq, kind, order_id, data, out) -> None:
        if kind == "amended":  # kept priority: only the remaining changed
            self._set(order_id, data["remaining"], out, seq)
        else:  # cancelled, expired
            self._set(order_id, 0, out, seq)

    def _rest(self, taker: _Taker | None, out) -> None:
        if taker is None or not taker.rests or taker.remaining <= 0:
            return
        self.orders[taker.order_id] = [taker.key, taker.remaining]
        self.levels[taker.key] = self.levels.get(taker.key, 0) + taker.remaining
        out.insert(taker.at, self._level_event(taker.seq, taker.key))

    def _set(self, order_id: int, remaining: int, out, seq: int) -> None:
        entry = self.orders.get(order_id)
        if entry is None:
            if not self.lenient:
                raise ProjectionError(f"{self.symbol}: no order {order_id} at {seq}")
            out.append(self._event(seq, "level", {}))
            return
        key, before = entry
        self.levels[key] += remaining - before
        if remaining:
            entry[1] = remaining
        else:
            del self.orders[order_id]
        out.append(self._level_event(seq, key))

    def _pop(self, order_id: int, out, seq: int) -> tuple | None:
        entry = self.orders.get(order_id)
        self._set(order_id, 0, out, seq)
        return None if entry is None else entry[0]

    def _level_event(self, seq: int, key: tuple) -> StreamEvent:
        data = {"symbol": self.symbol, "seq": seq, "side": key[0]}
        data |= self._level_row(key) | {"stack": key[3]}
        if not self.levels.get(key):
            self.levels.pop(key, None)
        return self._event(seq, "level", data)

    def _event(self, seq: int, name: str, data: dict) -> StreamEvent:
        n = self._counts.get(seq, 0)
        self._counts[seq] = n + 1
        return StreamEvent(seq, n, name, data)


def _remainder_cancelled(taker: _Taker | None, order_id: int, kind: str, data) -> bool:
    return (
        taker is not None
        and order_id == taker.order_id
        and kind == "cancelled"
        and data["reason"] == "ioc"
    )
