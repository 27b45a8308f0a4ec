"""What follows an order command at the service boundary (exchange.services):
count and time the placement for /metrics, and once trades have committed, count
them and ask for the candle fold (and for notifications of them).

The fold is enqueued on commit, at most once a second per instrument and process, and
`robust`: a broker that does not answer is logged, never turned into an error for an
order that has already committed. Nothing depends on it having run: candle reads fold
newer trades on the fly, and beat's sweep folds whatever an enqueued fold missed.
"""

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction

from exchange.marketdata.tasks import candles_fold as candles_fold_task
from exchange.models import Trade
from exchange.monitoring.metrics import FILLS, ORDERS_PLACED, PLACEMENT_SECONDS
from exchange.notifications.tasks import fills_committed
from market.exceptions import DomainError

if TYPE_CHECKING:
    from exchange.services.placement import Placed

SIDES = ("buy", "sell")


class Placement:
    """The block sets `placed` to what the placement returned."""

    placed: "Placed"


@contextmanager
def placement_observed(*, side: str) -> Iterator[Placement]:
    """Time the placement in the block and count it by side and outcome; after an
    accepted one, see to its fills."""
    side = side if side in SIDES else "other"
    seen = Placement()
    started = time.perf_counter()
    try:
        yield seen
    except DomainError as exc:
        ORDERS_PLACED.labels(side, exc.code).inc()
        raise
    except Exception:
        ORDERS_PLACED.labels(side, "error").inc()
        raise
    finally:
        PLACEMENT_SECONDS.observe(time.perf_counter() - started)
    placed = seen.placed
    ORDERS_PLACED.labels(
        side, placed.order.status if placed.created else "replayed"
    ).inc()
    if placed.created:
        trades_committed(placed.fills)


def batch_observed(requests: list, outcomes: list) -> None:
    """Count a batch's orders by side and outcome and see to their fills, one fold
    per instrument (the latency histogram is of single placements: a batch's time is
    not one order's)."""
    fills: dict[int, list[Trade]] = {}
    counts: Counter[tuple[str, str]] = Counter()  # one increment per label pair
    for request, outcome in zip(requests, outcomes, strict=True):
        side = request.side if request.side in SIDES else "other"
        if isinstance(outcome, DomainError):
            counts[side, outcome.code] += 1
            continue
        counts[side, outcome.order.status if outcome.created else "replayed"] += 1
        if outcome.created:
            for trade in outcome.fills:
                fills.setdefault(trade.instrument_id, []).append(trade)
    for (side, status), n in counts.items():
        ORDERS_PLACED.labels(side, status).inc(n)
    for trades in fills.values():
        trades_committed(trades)


# A process asks for an instrument's fold at most this often: a busy book trades
# many times a second, and one fold takes every trade since the watermark.
FOLD_EVERY_SECONDS = 1.0
_fold_asked: dict[int, float] = {}  # instrument id -> monotonic time of the last ask


def trades_committed(trades: list[Trade]) -> None:
    """Count one command's trades and have them folded into candles after commit
    (unless this process asked for that instrument's fold a moment ago)."""
    if not trades:
        return
    FILLS.inc(len(trades))
    fills_committed(trades)  # notifications, after commit, for those who want them
    instrument_id, now = trades[0].instrument_id, time.monotonic()
    if now - _fold_asked.get(instrument_id, -FOLD_EVERY_SECONDS) < FOLD_EVERY_SECONDS:
        return
    _fold_asked[instrument_id] = now
    fold = partial(candles_fold_task.delay, instrument_id)
    transaction.on_commit(fold, robust=True)
