"""Placing orders: the entry points. A request passes its intake (the checks that
need no lock, its replay), then joins whatever else this process has queued on its
instrument (group commit) and goes through the placement pipeline in one durable
transaction: fast mode first, exact mode when the fast pass cannot decide."""

import logging

from django.db import InterfaceError, OperationalError
from django.utils import timezone

from exchange.entry import run_durable
from exchange.monitoring.observe import batch_observed, placement_observed
from exchange.services.group import group_commit
from exchange.services.pipeline import Outcome, Placement
from exchange.services.requests import Entry, OrderRequest, Placed, intake
from market.exceptions import DomainError
from market.models import Participant
from settlement import interface as settlement

__all__ = ["Placed", "order_place", "orders_place_batch", "place_durably"]
log = logging.getLogger(__name__)


def order_place(*, participant: Participant, request: OrderRequest) -> Placed:
    """Entry point: place an order in its own durable transaction (retried on
    deadlock). A refused order writes nothing and uses no sequence number. Counted
    and timed for /metrics; its fills are folded into candles after commit."""
    with placement_observed(side=request.side) as seen:
        entry = intake(participant, request, timezone.now())
        if isinstance(entry.item, Placed):
            seen.placed = entry.item
        else:
            [outcome] = group_commit(request.instrument, [entry], _place_groups)
            if isinstance(outcome, DomainError):
                raise outcome
            seen.placed = outcome
    return seen.placed


def orders_place_batch(
    *, participant: Participant, requests: list[OrderRequest]
) -> list[Outcome]:
    """Entry point: place orders in the order given, each answered on its own (a
    refusal is returned, not raised), all in one durable transaction that locks each
    instrument once. A batch on one instrument is committed with whatever else this
    process has queued on it by then (group commit)."""
    now = timezone.now()
    entries = []
    for request in requests:
        try:
            entries.append(intake(participant, request, now))
        except DomainError as exc:
            entries.append(Entry(participant, request, exc))
    symbols = {e.request.instrument for e in entries if _to_place(e)}
    if len(symbols) == 1:
        outcomes = group_commit(symbols.pop(), entries, _place_groups)
    elif symbols:
        outcomes = place_durably(entries)
    else:
        outcomes = [e.item for e in entries]  # type: ignore[misc]
    batch_observed(requests, outcomes)
    return outcomes


def _to_place(entry: Entry) -> bool:
    return not isinstance(entry.item, Placed | DomainError)


def _place_groups(requests: list[list[Entry]]) -> list[list[Outcome]]:
    """Requests (single orders and batches) queued on one instrument, placed together
    in one durable transaction; each request's outcomes in its own order."""
    outcomes = iter(place_durably([e for entries in requests for e in entries]))
    return [[next(outcomes) for _entry in entries] for entries in requests]


def place_durably(entries: list[Entry]) -> list[Outcome]:
    """Place orders in a durable transaction of their own: the pipeline's fast pass,
    and when it cannot decide (a balance moved since its snapshot, set-asides that
    may overstate, a client_order_id sent twice, or anything unexpected), its exact
    mode in another, which answers each order on its own."""
    try:
        return run_durable(_run, entries, exact=False)
    except (OperationalError, InterfaceError):
        raise  # the database's, retried already: every order fails with it
    except (
        settlement.FundsMoved,
        settlement.FundsUncertain,
        settlement.InsufficientFunds,
    ):
        pass
    except Exception:
        log.warning("fast placement failed; placing order by order", exc_info=True)
    return run_durable(_run, entries, exact=True)


def _run(entries: list[Entry], *, exact: bool) -> list[Outcome]:
    return Placement(entries, now=timezone.now(), exact=exact).run()
