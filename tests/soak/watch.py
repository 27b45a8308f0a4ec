"""Watchers that run beside the bots: the market refresher, and the sampler that
asks every web process for its warm books (`GET /internal/book/<symbol>/`) so the
checks can compare each with the event log at the same sequence number."""

import contextlib
import threading
import time

import httpx

from tests.soak.bots import Market
from tests.soak.procs import Node


def every(seconds: float, stop: threading.Event, work, name: str) -> threading.Thread:
    """A daemon thread that runs `work()` every `seconds` until `stop`; a failed
    round (a node down, a fault) is simply the next round's to do."""

    def loop() -> None:
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                work()
            stop.wait(seconds)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread


class BookSampler:
    """Collects warm-book dumps, one per (process, instrument, sequence)."""

    def __init__(self, nodes: list[Node], token: str) -> None:
        self.nodes, self.headers = nodes, {"X-Internal-Token": token}
        self.dumps: dict[tuple, dict] = {}
        self.lock = threading.Lock()

    def sample(self, symbols: list[str], tries: int = 2) -> None:
        """`tries` requests per node and symbol: a node's workers share its socket,
        so several requests reach several processes."""
        for node in self.nodes:
            for symbol in symbols:
                for _ in range(tries):
                    self._one(node, symbol)

    def _one(self, node: Node, symbol: str) -> None:
        try:
            response = httpx.get(
                f"{node.url}/internal/book/{symbol}/", headers=self.headers, timeout=5
            )
        except httpx.HTTPError:
            return
        if response.status_code != 200:
            return
        body = response.json()
        if body["warm"]:
            body |= {"node": node.name, "at": time.time()}
            with self.lock:
                self.dumps.setdefault((body["pid"], symbol, body["sequence"]), body)

    def start(self, market: Market, stop: threading.Event) -> threading.Thread:
        return every(4, stop, lambda: self.sample(list(market.open)), "books")
