"""Group commit: concurrent single orders on one instrument share a transaction, and
each is still checked, answered and accounted for on its own.

No test waits for time to pass: the first group's placement is held until every other
request has queued behind it (seen in the instrument's queue), so the groups that
form are the same on every run."""

import time
from decimal import Decimal

import pytest

from exchange.models import Order
from exchange.reconcile import reconcile
from exchange.services import group, placement
from exchange.services.group import group_commit
from settlement.exceptions import InsufficientFunds
from settlement.models import JournalEntry
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.threads import threads_together


def queued(key: str, count: int, *, timeout: float = 20) -> list:
    """Wait until `count` requests wait in `key`'s queue (behind the group being
    placed); their entries, in arrival order. Fails if they never all arrive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = group._queues.get(key)
        if queue is not None:
            with queue.ready:
                if len(queue.pending) >= count:
                    return [ticket.entry for ticket in queue.pending]
        time.sleep(0.001)
    raise AssertionError(f"{count} requests never queued on {key}")


def first_group_waits_for(key: str, others: int, place):
    """`place`, except that the first group placed waits until `others` requests
    have queued behind it: they then form the second group, all together."""
    arrived = []

    def held(entries):
        if not arrived:
            arrived.append(queued(key, others))
        return place(entries)

    return held, arrived


def test_each_thread_gets_its_own_answer_in_arrival_order_of_its_group():
    """Eight threads: the first places alone, the seven that queued meanwhile form
    one group in the order they arrived, and each thread gets its own answer."""
    groups = []

    def place_all(entries):
        groups.append(list(entries))
        return [f"placed {e}" for e in entries]

    held, arrived = first_group_waits_for("X", 7, place_all)
    results = threads_together(8, lambda i: group_commit("X", i, held), timeout=30)
    assert results == [f"placed {i}" for i in range(8)]
    assert [len(g) for g in groups] == [1, 7]
    assert groups[1] == arrived[0]  # in arrival order
    assert sorted(groups[0] + groups[1]) == list(range(8))
    assert "X" not in group._queues  # the queue went with its last user


def test_a_failed_group_fails_every_order_in_it_and_the_next_group_runs():
    """The first group fails: its thread gets the error; the five queued behind it
    are placed in the next group, each with its own answer."""
    calls = []

    def place_all(entries):
        calls.append(list(entries))
        if len(calls) == 1:
            raise RuntimeError("database gone")
        return [f"placed {e}" for e in entries]

    held, _arrived = first_group_waits_for("Y", 5, place_all)
    results = threads_together(6, lambda i: group_commit("Y", i, held), timeout=30)
    [first] = calls[0]
    assert [len(c) for c in calls] == [1, 5]
    assert isinstance(results[first], RuntimeError)
    assert str(results[first]) == "database gone"
    assert [r for i, r in enumerate(results) if i != first] == [
        f"placed {i}" for i in range(6) if i != first
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_share_transactions_and_stay_apart(catalogue, monkeypatch):
    """Buyers and sellers place at once; the 17 that queue behind the first order
    commit together. Every order is placed or refused on its own; the ledger says who
    caused what."""
    instrument = make_instrument()
    buyers = [make_buyer() for _ in range(3)]
    poor = make_buyer(money="1")  # every order of its is refused, alone
    sellers = [make_seller() for _ in range(2)]
    sizes = []
    real = placement._place_groups

    def counted(requests):
        sizes.append(sum(len(entries) for entries in requests))
        return real(requests)

    held, _arrived = first_group_waits_for(instrument.symbol, 17, counted)
    monkeypatch.setattr(placement, "_place_groups", held)
    people = [*buyers, poor, *sellers]

    def trader(i):
        who = people[i % len(people)]
        side = "sell" if who.is_seller else "buy"
        price = "11.50" if side == "sell" else f"{11 + i % 3}.00"
        return who, place(who, instrument, side, "2.0", price)

    results = threads_together(18, trader)
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, InsufficientFunds) for r in refused)
    assert len(refused) == 3  # the poor buyer's three orders
    placed = [r for r in results if not isinstance(r, Exception)]
    assert len(placed) == 15 == Order.objects.count()
    assert sizes == [1, 17]
    for who, p in placed:
        reference = f"order:{p.order.pk}"
        holds = JournalEntry.objects.filter(reference=reference, kind="hold")
        assert [h.caused_by_id for h in holds] == [who.user_id]
        for trade in p.fills:  # the fill's money moved at the taker's command
            fill = JournalEntry.objects.get(idempotency_key=f"fill:trade:{trade.pk}")
            assert fill.caused_by_id == who.user_id
    assert sum(len(p.fills) for _, p in placed) > 0
    assert all(not failures for _name, failures in reconcile())
    assert poor.accounts.get(kind="available").balance == Decimal(1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_and_single_orders_share_transactions(catalogue, monkeypatch):
    """Batches on one instrument queue and commit with single orders; each batch
    still gets its own answers, in its own order, refusals included."""
    from exchange.services.requests import OrderRequest

    instrument = make_instrument()
    buyer, seller = make_buyer(), make_seller()
    groups = []
    real = placement._place_groups

    def counted(requests):
        groups.append([len(entries) for entries in requests])
        return real(requests)

    held, _arrived = first_group_waits_for(instrument.symbol, 8, counted)
    monkeypatch.setattr(placement, "_place_groups", held)

    def request(side, price, **extra):
        return OrderRequest(
            instrument=instrument.symbol,
            side=side,
            quantity=Decimal("1.0"),
            price=Decimal(price),
            **extra,
        )

    def trader(i):
        if i % 3 == 2:  # a single sell
            return place(seller, instrument, "sell", "1.0", "11.90")
        prices = [f"{11 + i / 100:.2f}", "0.00", f"{10 + i / 100:.2f}"]
        return placement.orders_place_batch(  # the middle one is refused
            participant=buyer, requests=[request("buy", p) for p in prices]
        )

    results = threads_together(9, trader)
    # The first request alone, then the other eight in one transaction: six batches
    # of three and three single orders in all.
    assert [len(g) for g in groups] == [1, 8]
    assert sorted(groups[0] + groups[1]) == [1] * 3 + [3] * 6
    for i, result in enumerate(results):
        if i % 3 == 2:
            assert result.order.side == "sell"
            continue
        first, refused, last = result
        assert [first.order.price, last.order.price] == [
            Decimal(f"{11 + i / 100:.2f}"),
            Decimal(f"{10 + i / 100:.2f}"),
        ]
        assert refused.code == "validation_error"
    assert Order.objects.count() == 6 * 2 + 3
    assert all(not failures for _name, failures in reconcile())
