"""Group commit: orders (single ones and batches) that arrive together on one
instrument share one transaction.

Every order on an instrument queues on the instrument's row lock anyway; a server
thread that finds another thread of its process already placing on the instrument
leaves its request (an order, or a batch on that one instrument) in the instrument's
queue instead of waiting for the lock. When the placing thread is done, one of the
waiting threads (the leader) takes every request queued by then and places them
together, in one transaction, through the same pipeline as a batch. Each order is
still checked and answered on its own, in arrival order.

A thread places at most one group, the one holding its own order, so no request
waits behind more than the group being placed plus its own. With one request at a
time (or one thread per process) a group is that one order. A queue lives while a
thread uses it: a symbol nobody listed leaves nothing behind.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Ticket[E, R]:
    entry: E
    done: bool = False
    outcome: R | None = None
    error: BaseException | None = None

    def result(self) -> R:
        if self.error is not None:
            raise self.error
        return self.outcome  # type: ignore[return-value]


@dataclass
class _Queue:
    ready: threading.Condition = field(default_factory=threading.Condition)
    pending: list[_Ticket] = field(default_factory=list)
    busy: bool = False
    users: int = 0  # threads queued or placing: the queue is dropped at 0


_queues: dict[str, _Queue] = {}
_queues_lock = threading.Lock()


def group_commit[E, R](key: str, entry: E, place: Callable[[list[E]], list[R]]) -> R:
    """Place `entry` with whatever else is queued under `key` (an instrument symbol)
    by then: `place(entries)` answers each entry, in order, in one transaction. An
    exception `place` raises is raised in every thread of the group (`place` answers
    an order's own failure as its outcome)."""
    with _queues_lock:
        queue = _queues.setdefault(key, _Queue())
        queue.users += 1
    try:
        return _through(queue, entry, place)
    finally:
        with _queues_lock:
            queue.users -= 1
            if not queue.users:
                del _queues[key]


def _through[E, R](queue: _Queue, entry: E, place: Callable[[list[E]], list[R]]) -> R:
    ticket: _Ticket[E, R] = _Ticket(entry)
    with queue.ready:
        queue.pending.append(ticket)
        while queue.busy and not ticket.done:
            queue.ready.wait()
        if ticket.done:  # another thread placed it
            return ticket.result()
        # Nobody is placing: lead the group of everything queued so far.
        queue.busy = True
        group, queue.pending = queue.pending, []
    try:
        outcomes = place([t.entry for t in group])
        for t, outcome in zip(group, outcomes, strict=True):
            t.outcome = outcome
    except BaseException as exc:  # every order of the group failed with it
        for t in group:
            t.error = exc
    finally:
        with queue.ready:
            for t in group:
                t.done = True
            queue.busy = False
            queue.ready.notify_all()
    return ticket.result()
