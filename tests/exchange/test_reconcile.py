"""`manage.py reconcile` on the book's side: each invariant that joins the book and
the ledger, broken on purpose with raw SQL, is reported; every invariant reconcile
checks has such a case (here or in tests/settlement/test_reconcile.py); and beside
live trading, where reads at different moments would see half of a command, every
run passes because reconcile reads one consistent snapshot."""

import random

import pytest
from django.db import connection

from exchange.exceptions import ExchangeError
from exchange.models import Trade
from exchange.reconcile import CHECKS, reconcile
from exchange.services.orders import order_cancel
from market.exceptions import DomainError
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.faults import Case, Check, Market, assert_reported, market_build
from tests.settlement.test_reconcile import CASES as LEDGER_CASES
from tests.settlement.test_reconcile import HOLDS
from tests.threads import threads_together

HOLDS_FOLLOW = "no hold on a finished order; open orders hold what they need"
QUANTITIES = "filled + remaining never exceeds an order's quantity"
OBLIGATIONS = "every trade has a settlement obligation"
COMMITMENTS = "each cluster's kept commitment is what its sells commit"
ALL_IN = "every trade's all-in price is its price plus surcharge"
SETTLED_INSTRUMENT = "every trade of a settled instrument is settled"
SEQUENCES = "event sequences are gapless"
BALANCES = "each stored balance equals the sum of its postings"


def order_closed_hold_kept(cursor, m: Market) -> None:
    """A resting buy marked cancelled, its hold never released."""
    cursor.execute(
        "UPDATE exchange_order SET status = 'cancelled', remaining_quantity = 0 "
        "WHERE id = %s",
        [m.resting_buy_id],
    )


def hold_short(cursor, m: Market) -> None:
    """A resting buy's hold one yuan short of what it needs (and of `held`)."""
    cursor.execute(
        "UPDATE settlement_hold SET amount = amount - 1 WHERE reference = %s",
        [f"order:{m.resting_buy_id}"],
    )


def remaining_revived(cursor, m: Market) -> None:
    """A filled order given back some remaining quantity."""
    cursor.execute(
        "UPDATE exchange_order SET remaining_quantity = 0.1 WHERE id = %s",
        [m.filled_buy_id],
    )


def overfilled(cursor, m: Market) -> None:
    cursor.execute(
        "UPDATE exchange_order SET filled_quantity = quantity + 1 WHERE id = %s",
        [m.filled_buy_id],
    )


def obligation_lost(cursor, m: Market) -> None:
    """The trade's obligation points at another trade."""
    cursor.execute(
        "UPDATE settlement_obligation SET trade_id = trade_id + 1000000 "
        "WHERE trade_id = %s",
        [m.trade_id],
    )


def commitment_drifted(cursor, m: Market) -> None:
    cursor.execute(
        "UPDATE exchange_clustercommitment SET chips = chips + 1 "
        "WHERE instrument_id = %s",
        [m.instrument_id],
    )


def all_in_off(cursor, m: Market) -> None:
    cursor.execute(
        "UPDATE exchange_trade SET all_in_price = all_in_price + 0.01 WHERE id = %s",
        [m.trade_id],
    )


def settled_too_soon(cursor, m: Market) -> None:
    """The instrument marked settled while its trades await delivery."""
    cursor.execute(
        "UPDATE exchange_instrument SET state = 'settled' WHERE id = %s",
        [m.instrument_id],
    )


def event_lost(cursor, m: Market) -> None:
    cursor.execute(
        "DELETE FROM exchange_orderevent WHERE instrument_id = %s AND sequence = 2",
        [m.instrument_id],
    )


def sequence_skipped(cursor, m: Market) -> None:
    cursor.execute(
        "UPDATE exchange_instrument SET sequence = sequence + 1 WHERE id = %s",
        [m.instrument_id],
    )


CASES = [
    Case("order-closed-hold-kept", HOLDS_FOLLOW, order_closed_hold_kept),
    Case("hold-short", HOLDS_FOLLOW, hold_short, frozenset({HOLDS})),
    Case("remaining-revived", QUANTITIES, remaining_revived),
    Case(
        "overfilled",
        QUANTITIES,
        overfilled,
        guard=Check("exchange_order", "order_quantities_bounded"),
    ),
    Case("obligation-lost", OBLIGATIONS, obligation_lost),
    Case("commitment-drifted", COMMITMENTS, commitment_drifted),
    Case("all-in-off", ALL_IN, all_in_off),
    Case("settled-too-soon", SETTLED_INSTRUMENT, settled_too_soon),
    Case("event-lost", SEQUENCES, event_lost),
    Case("sequence-skipped", SEQUENCES, sequence_skipped),
]


def test_every_invariant_has_a_corruption_case():
    """Reconcile checks no invariant that no test breaks, and no case names an
    invariant reconcile does not check."""
    checked = [name for name, _check in CHECKS]
    assert len(checked) == len(set(checked))
    assert {c.invariant for c in [*LEDGER_CASES, *CASES]} == set(checked)


@pytest.mark.django_db
@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_reconcile_reports_a_corrupted_book(case):
    """Reconcile passes on the market, and after the corruption exits 1 naming the
    invariant it breaks (and only those it must break with it)."""
    assert_reported(case, market_build())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_trade_committed_between_two_reads_does_not_show(catalogue):
    """A trade commits from another connection just after reconcile has summed
    the postings per account and before it reads the balances. Inside reconcile's
    snapshot neither read sees the trade and every invariant holds; the same checks
    without the snapshot see the balances after it and the postings before it."""
    instrument = make_instrument()
    seller, buyer = make_seller(), make_buyer()
    place(seller, instrument, "sell", "100.0", "11.00")

    def failing_with_a_trade_between(run) -> set[str]:
        trades = Trade.objects.count()
        placed: list = []

        def trade_between(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            if not placed and '"settlement_posting"' in sql and "account_id" in sql:
                placed.extend(
                    threads_together(
                        1, lambda _i: place(buyer, instrument, "buy", "10.0", "12.00")
                    )
                )
            return result

        with connection.execute_wrapper(trade_between):
            report = run()
        assert placed, "reconcile no longer sums the postings per account"
        assert not isinstance(placed[0], Exception), placed
        assert Trade.objects.count() > trades  # it committed, between the reads
        return {name for name, failures in report if failures}

    assert failing_with_a_trade_between(reconcile) == set()
    unsnapshotted = failing_with_a_trade_between(lambda: [(n, c()) for n, c in CHECKS])
    assert unsnapshotted == {BALANCES}
    assert not [f for _n, f in reconcile() if f]


def _trader(i: int, instrument, buyers, sellers) -> None:
    """Place crossing buys and sells and cancel some of them, at random."""
    rng = random.Random(i)
    mine = []
    for _ in range(30):
        roll = rng.random()
        try:
            if roll < 0.45:
                p, side, price = rng.choice(buyers), "buy", rng.randint(1100, 1350)
            elif roll < 0.8:
                p, side, price = rng.choice(sellers), "sell", rng.randint(1000, 1250)
            elif mine:
                order_cancel(participant=(o := rng.choice(mine))[0], order_id=o[1])
                continue
            else:
                continue
            quantity = f"{rng.randint(1, 20)}.0"
            order = place(p, instrument, side, quantity, f"{price / 100:.2f}").order
            mine.append((p, order.pk))
        except (ExchangeError, DomainError):
            pass  # already done, out of band, no funds: refused, nothing written


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reconcile_passes_beside_live_trading(catalogue):
    """Three threads place, fill and cancel orders while a fourth runs reconcile
    over and over: every run passes."""
    instrument = make_instrument()
    buyers = [make_buyer(r) for r in ("CITY-SH", "CITY-BJ")]
    sellers = [make_seller(r) for r in ("CLU-GUIAN", "CLU-WUHU")]
    traders, finished = 3, []

    def work(i):
        if i == traders:
            runs = []
            while len(finished) < traders:
                runs.append({name: f for name, f in reconcile() if f})
            return runs
        try:
            return _trader(i, instrument, buyers, sellers)
        finally:
            finished.append(i)

    *trading, runs = threads_together(traders + 1, work)
    assert not [r for r in [*trading, runs] if isinstance(r, Exception)]
    assert Trade.objects.filter(instrument=instrument).exists()
    assert len(runs) >= 3
    assert [failed for failed in runs if failed] == []
