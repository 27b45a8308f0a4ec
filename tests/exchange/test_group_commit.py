"""Group commit: concurrent single orders on one instrument share a transaction, and
each is still checked, answered and accounted for on its own."""

import time
from decimal import Decimal

import pytest

from exchange.models import Order
from exchange.reconcile import reconcile
from exchange.services import placement
from exchange.services.group import group_commit
from settlement.exceptions import InsufficientFunds
from settlement.models import JournalEntry
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.threads import threads_together


def test_each_thread_gets_its_own_answer_in_arrival_order_of_its_group():
    groups = []

    def place_all(entries):
        groups.append(list(entries))
        time.sleep(0.02)  # a slow placement: the others queue meanwhile
        return [f"placed {e}" for e in entries]

    results = threads_together(8, lambda i: group_commit("X", i, place_all))
    assert results == [f"placed {i}" for i in range(8)]
    assert sorted(e for g in groups for e in g) == list(range(8))
    assert max(len(g) for g in groups) > 1


def test_a_failed_group_fails_every_order_in_it_and_the_next_group_runs():
    calls = []

    def place_all(entries):
        calls.append(list(entries))
        if len(calls) == 1:
            time.sleep(0.02)
            raise RuntimeError("database gone")
        return entries

    results = threads_together(6, lambda i: group_commit("Y", i, place_all))
    failed = [r for r in results if isinstance(r, RuntimeError)]
    assert len(failed) == len(calls[0])
    assert sorted(r for r in results if not isinstance(r, Exception)) == sorted(
        e for g in calls[1:] for e in g
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_share_transactions_and_stay_apart(catalogue, monkeypatch):
    """Buyers and sellers place at once; a slow first group makes the others queue.
    Every order is placed or refused on its own; the ledger says who caused what."""
    instrument = make_instrument()
    buyers = [make_buyer() for _ in range(3)]
    poor = make_buyer(money="1")  # every order of its is refused, alone
    sellers = [make_seller() for _ in range(2)]
    sizes = []
    real = placement._place_groups

    def slow_group(requests):
        sizes.append(sum(len(entries) for entries in requests))
        time.sleep(0.01)
        return real(requests)

    monkeypatch.setattr(placement, "_place_groups", slow_group)
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
    assert sum(sizes) == 18
    assert max(sizes) > 1
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

    def slow_group(requests):
        groups.append([len(entries) for entries in requests])
        time.sleep(0.01)
        return real(requests)

    monkeypatch.setattr(placement, "_place_groups", slow_group)

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
    assert max(len(g) for g in groups) > 1  # requests did share a transaction
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
