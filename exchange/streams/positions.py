"""Stream positions: what the SSE `id:` of every event holds.

Market stream: for each instrument of the request whose position is known,
`<symbol>:<seq>.<n>`, comma-separated: every event up to the n-th (from 0) that
sequence number `seq` produced has been sent. Private stream: see `PrivatePosition`.
"""

import re
from dataclasses import dataclass, field

from exchange.exceptions import DomainError

MAX_HEADER = 4096
_MARKET_PART = re.compile(r"^([A-Za-z0-9._-]{1,64}):([0-9]{1,18})\.([0-9]{1,6})$")
_PRIVATE_PART = re.compile(r"^([is])([0-9]{1,18})\.([0-9]{1,18})\.([0-9]{1,18})$")


class BadPosition(DomainError):
    code = "validation_error"


type Point = tuple[int, int]  # (seq, n)


def market_parse(text: str) -> dict[str, Point]:
    """`SYM:120.2,OTHER:57.0` -> {"SYM": (120, 2), "OTHER": (57, 0)}."""
    if len(text) > MAX_HEADER:
        raise BadPosition("Last-Event-ID is too long.")
    out: dict[str, Point] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _MARKET_PART.match(part)
        if match is None:
            raise BadPosition(f"Not a stream position: {part!r}.")
        symbol, seq, n = match.groups()
        out[symbol] = (int(seq), int(n))
    return out


def market_format(symbols: list[str], points: dict[str, Point]) -> str:
    return ",".join(
        f"{s}:{points[s][0]}.{points[s][1]}" for s in symbols if s in points
    )


@dataclass
class PrivatePosition:
    """A participant's position, from what the database records: no sequence spans
    a participant's instruments, so it holds one point per instrument.

    `t<ms>`: when it was written. `i<instrument id>.<seq>.<k>` for each instrument on
    which the participant had orders then: every one of its events there before
    `seq`, and the first `k` of `seq`, were sent. `s<ms>.<rank>.<id>`: the last
    delivery or settlement event sent. An instrument missing from the position had
    none of the participant's orders when it was written, so all its events for the
    participant are new, unless it had closed before that (it then has none to
    send): the stream keeps a closed instrument in its positions for a while
    (`EXCHANGE_STREAMS_CLOSED_MARGIN_SECONDS`) so as to tell the two apart.
    """

    written_ms: int
    instruments: dict[int, Point] = field(default_factory=dict)
    settlement: tuple[int, int, int] = (0, 0, 0)

    def format(self) -> str:
        parts = [f"t{self.written_ms}"]
        parts += [f"i{i}.{s}.{k}" for i, (s, k) in sorted(self.instruments.items())]
        parts.append("s{}.{}.{}".format(*self.settlement))
        return ",".join(parts)

    @classmethod
    def parse(cls, text: str) -> "PrivatePosition":
        if len(text) > MAX_HEADER:
            raise BadPosition("Last-Event-ID is too long.")
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts or not re.fullmatch(r"t[0-9]{1,15}", parts[0]):
            raise BadPosition("Not a private stream position.")
        position = cls(int(parts[0][1:]))
        for part in parts[1:]:
            if match := _PRIVATE_PART.match(part):
                kind, a, b, c = match.groups()
                if kind == "i":
                    position.instruments[int(a)] = (int(b), int(c))
                else:
                    position.settlement = (int(a), int(b), int(c))
            else:
                raise BadPosition(f"Not a private stream position: {part!r}.")
        return position
