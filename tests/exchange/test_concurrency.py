"""Many threads on one instrument at once, on PostgreSQL: the instrument lock makes
placement, amend and cancel serial, and nothing is lost, doubled or left crossed."""

import random
from decimal import Decimal

import pytest

from exchange.exceptions import OrderNotOpen
from exchange.models import Instrument, Order, OrderEvent, Trade
from exchange.reconcile import reconcile
from exchange.services.orders import order_amend, order_cancel
from market.models import Surcharge
from settlement.exceptions import InsufficientFunds
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.settlement.helpers import balance
from tests.threads import threads_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(target, n) -> list:
    """Each thread's result; any exception a thread raised fails the test."""
    results = threads_together(n, target)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    return results


def test_concurrent_place_amend_cancel_keeps_the_book_consistent(catalogue):
    """Six threads place, amend and cancel at once. Every order is accepted (all lie
    in the band whatever the last price, and everyone can afford them); an amend or
    cancel of an order nobody can fill succeeds; any other is refused only as
    order_not_open, for an order that is indeed finished; and the book, trades and
    ledger agree afterwards."""
    # A 50% band around any price traded here (10.00 to 14.00) holds every price used.
    instrument = make_instrument(band="50")
    buyers = [make_buyer(r) for r in ("CITY-SH", "CITY-BJ", "CLU-GUIAN", "CITY-SZ")]
    sellers = [make_seller(r) for r in ("CLU-GUIAN", "CLU-WUHU", "CLU-ZHONGWEI")]
    refused = []

    def trader(i):
        rng = random.Random(i)
        buyer = buyers[i % len(buyers)]
        # Far below every sell, so no one can fill it: its amend and cancel must work.
        safe = place(buyer, instrument, "buy", "5.0", "7.50").order.pk
        mine = []
        for step in range(25):
            if step == 12:
                order_amend(participant=buyer, order_id=safe, price=Decimal("7.60"))
                order_cancel(participant=buyer, order_id=safe)
            roll = rng.random()
            if roll < 0.75:
                side = "buy" if roll < 0.4 else "sell"
                p = rng.choice(buyers if side == "buy" else sellers)
                low, high = (1100, 1400) if side == "buy" else (1000, 1300)
                price = f"{rng.randint(low, high) / 100:.2f}"
                quantity = f"{rng.randint(1, 20)}.0"
                order = place(p, instrument, side, quantity, price).order
                if order.is_open:  # it rests: something to amend or cancel
                    mine.append((p, order.pk))
            elif mine:
                p, oid = rng.choice(mine)
                try:
                    if roll < 0.88:
                        order_amend(
                            participant=p,
                            order_id=oid,
                            price=Decimal(f"{rng.randint(1100, 1300) / 100:.2f}"),
                        )
                    else:
                        order_cancel(participant=p, order_id=oid)
                except OrderNotOpen:  # filled or cancelled meanwhile
                    refused.append(oid)
        return safe

    safe = run_threads(trader, 6)
    amended = Order.objects.filter(pk__in=safe, price=Decimal("7.60"))
    assert list(amended.values_list("status", flat=True)) == ["cancelled"] * 6
    finished = Order.objects.filter(pk__in=refused).exclude(
        status__in=Order.OPEN_STATUSES
    )
    assert finished.count() == len(set(refused))
    instrument.refresh_from_db()
    events = list(
        OrderEvent.objects.filter(instrument=instrument)
        .values_list("sequence", flat=True)
        .order_by("sequence")
    )
    assert events == list(range(1, instrument.sequence + 1))  # gapless, none lost
    for order in Order.objects.filter(instrument=instrument):
        filled = sum((t.quantity for t in Trade.objects.filter(buy_order=order)), 0)
        filled += sum((t.quantity for t in Trade.objects.filter(sell_order=order)), 0)
        assert filled == order.filled_quantity <= order.quantity
    assert (
        Trade.objects.filter(instrument=instrument).count()
        == OrderEvent.objects.filter(instrument=instrument, kind="fill").count()
    )
    _assert_nothing_crossed(instrument)
    assert not [f for _n, f in reconcile() if f]


def _assert_nothing_crossed(instrument: Instrument) -> None:
    """No resting buy and resting sell of different participants that could trade."""
    s = {
        (r.sell_region.code, r.buy_region.code): r.surcharge
        for r in Surcharge.objects.filter(
            table=instrument.surcharge_table
        ).select_related("sell_region", "buy_region")
    }
    resting = Order.objects.filter(
        instrument=instrument, status__in=Order.OPEN_STATUSES
    )
    sells = [o for o in resting.select_related("region") if o.side == "sell"]
    for buy in resting.filter(side="buy").select_related("region"):
        for sell in sells:
            if sell.participant_id == buy.participant_id:
                continue
            assert sell.price + s[sell.region.code, buy.region.code] > buy.price, (
                buy,
                sell,
            )


def test_buys_beyond_balance_exactly_affordable_ones_succeed(catalogue):
    """Eight threads each place a buy needing 1001.00 CNY (100 x 10.00 and the 10 bps
    fee part); the buyer has 5000: four succeed, four get insufficient_funds, and
    nothing is half-written."""
    instrument = make_instrument()
    buyer = make_buyer(money=5000)

    def buy(i):
        return place(buyer, instrument, "buy", "100.0", "10.00").order

    results = threads_together(8, buy)
    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if not isinstance(r, Order)]
    assert len(placed) == 4
    assert [type(r) for r in refused] == [InsufficientFunds] * 4
    assert {o.pk for o in placed} == set(
        Order.objects.filter(participant=buyer).values_list("pk", flat=True)
    )
    assert balance(buyer, "held") == Decimal("4004.00")
    assert balance(buyer) == Decimal("996.00")
    assert not [f for _n, f in reconcile() if f]


def test_hold_released_once_when_cancel_fill_and_expiry_race(catalogue):
    """A resting buy is cancelled, filled by an IOC sell and expired at once, five
    times over. Exactly one of them wins and the others see it: the cancel is
    refused as order_not_open, the sell finds nothing and ends cancelled, the expiry
    expires nothing. The buy's hold is released exactly once."""
    from datetime import timedelta

    from django.utils import timezone

    from exchange.services.instruments import orders_expire_run
    from settlement.models import Hold, JournalEntry

    instrument = make_instrument()
    for round_ in range(5):
        buyer, seller = make_buyer("CLU-GUIAN"), make_seller("CLU-GUIAN")
        soon = timezone.now() + timedelta(seconds=2)
        order = place(
            buyer,
            instrument,
            "buy",
            "10.0",
            "12.00",
            time_in_force="GTD",
            expires_at=soon,
        ).order

        def racer(i, order=order, buyer=buyer, seller=seller, soon=soon):
            if i == 0:
                return order_cancel(participant=buyer, order_id=order.pk).status
            if i == 1:
                sell = place(
                    seller, instrument, "sell", "10.0", "12.00", time_in_force="IOC"
                )
                return sell.order.status
            return orders_expire_run(now=soon)

        cancel, sell, expired = threads_together(3, racer)
        order.refresh_from_db()
        assert (order.status, order.remaining_quantity) in {
            ("cancelled", 0),
            ("filled", 0),
            ("expired", 0),
        }, round_
        if order.status == "cancelled":
            assert cancel == "cancelled", round_
        else:
            assert isinstance(cancel, OrderNotOpen), (round_, cancel)
        assert sell == ("filled" if order.status == "filled" else "cancelled"), round_
        assert expired == (1 if order.status == "expired" else 0), round_
        filled = Trade.objects.filter(buy_order=order).count()
        assert filled == (order.status == "filled"), round_
        hold = Hold.objects.get(reference=f"order:{order.pk}")
        assert (hold.status, hold.amount) == ("released", 0), round_
        releases = JournalEntry.objects.filter(
            reference=f"order:{order.pk}", kind="release"
        ).count()
        assert releases == 1, round_
        assert balance(buyer, "held") == 0, round_
    assert not [f for _n, f in reconcile() if f]


def _withdraw_before_the_writes(
    monkeypatch, buyer, amount: str, *, on_pass: int = 1
) -> None:
    """Between the placement's unlocked read of the buyer's accounts (with the
    instrument's lock) and its writes, another transaction withdraws `amount`,
    once, and commits: in the `on_pass`th checkout of a book."""
    import threading

    from django.db import close_old_connections, transaction

    from exchange import books
    from settlement.services import withdrawal_post

    checkout, done, passes = books.book_checkout, [], []

    def withdraw():
        try:
            with transaction.atomic():
                withdrawal_post(participant=buyer, amount=Decimal(amount), key="w-1")
        finally:
            close_old_connections()

    def book_checkout(*args, **kwargs):
        passes.append(True)
        if not done and len(passes) == on_pass:
            done.append(True)
            thread = threading.Thread(target=withdraw)
            thread.start()
            thread.join(timeout=30)
        return checkout(*args, **kwargs)

    monkeypatch.setattr(books, "book_checkout", book_checkout)


def _balances(participant) -> dict[str, Decimal]:
    from settlement.models import Account

    return dict(
        Account.objects.filter(participant=participant).values_list("kind", "balance")
    )


def _accounts_locked_alone(queries) -> list[str]:
    """The statements that locked accounts in a round trip of their own."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT id, kind, participant_id, instrument, balance")
        and "FOR UPDATE" in q["sql"]
    ]


def test_a_resting_order_locks_its_accounts_with_its_writes(catalogue):
    """Two round trips in the order's transaction: the instrument's lock with the
    reads under it, then the accounts' lock with the writes. A crossing order still
    locks its accounts (the counterparty's, the platform's) before it writes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    instrument = make_instrument()
    buyer, seller = make_buyer(), make_seller()
    place(buyer, instrument, "buy", "1.0", "10.00")  # its held account now exists
    with CaptureQueriesContext(connection) as resting:
        place(buyer, instrument, "buy", "50.0", "10.00")
    statements = [
        q["sql"]
        for q in resting.captured_queries
        if q["sql"] not in {"BEGIN", "COMMIT"}
    ]
    assert len(statements) == 2
    assert not _accounts_locked_alone(resting.captured_queries)
    assert "settlement_account WHERE id = ANY(" in statements[1]
    with CaptureQueriesContext(connection) as crossing:
        place(seller, instrument, "sell", "10.0", "10.00")
    assert _accounts_locked_alone(crossing.captured_queries)
    assert not [f for _n, f in reconcile() if f]


def test_a_withdrawal_after_the_funds_check_is_not_overwritten(catalogue, monkeypatch):
    """A resting order's funds are checked against balances read without the
    accounts' lock, which its writes take; the balances then move by the hold, so a
    withdrawal committed in between still counts."""
    from settlement.models import Hold

    instrument = make_instrument()
    buyer = make_buyer(money=1000)
    place(buyer, instrument, "buy", "1.0", "10.00")  # its held account now exists
    before = _balances(buyer)
    _withdraw_before_the_writes(monkeypatch, buyer, "400")
    placed = place(buyer, instrument, "buy", "50.0", "10.00")
    hold = Hold.objects.get(reference=f"order:{placed.order.pk}").amount
    after = _balances(buyer)
    assert after["available"] == before["available"] - 400 - hold
    assert after["held"] == before["held"] + hold
    assert not [f for _n, f in reconcile() if f]


def test_funds_withdrawn_after_the_funds_check_refuse_the_order(catalogue, monkeypatch):
    """When the withdrawal leaves too little, the database refuses the hold and the
    order is placed again on the exact path (accounts locked, then checked), in a
    transaction of its own: insufficient_funds with the balance as it now is, and
    nothing written."""
    from settlement.exceptions import InsufficientFunds

    instrument = make_instrument()
    buyer = make_buyer(money=1000)
    first = place(buyer, instrument, "buy", "1.0", "10.00").order
    before = _balances(buyer)
    _withdraw_before_the_writes(monkeypatch, buyer, "900")
    with pytest.raises(InsufficientFunds) as refused:
        place(buyer, instrument, "buy", "50.0", "10.00")
    after = _balances(buyer)
    assert after == before | {"available": before["available"] - 900}
    assert f"{after['available']} CNY is available" in str(refused.value)
    assert list(Order.objects.filter(participant=buyer)) == [first]
    assert not [f for _n, f in reconcile() if f]


def test_funds_withdrawn_during_the_exact_pass_refuse_in_the_orders_words(
    catalogue, monkeypatch
):
    """A batch whose orders fit one by one but not together is decided again order
    by order; when a withdrawal lands between that pass's read and its writes, the
    ledger refuses the first order, and the refusal says what the order needs and
    what is available, as the funds check would: nothing is written."""
    from exchange.services.placement import orders_place_batch
    from exchange.services.requests import OrderRequest

    instrument = make_instrument()
    buyer = make_buyer(money=1000)
    need = "500.5000"  # 50.0 at 10.00 plus the fee at the larger rate
    order = OrderRequest(
        instrument=instrument.symbol,
        side="buy",
        price=Decimal("10.00"),
        quantity=Decimal("50.0"),
    )
    _withdraw_before_the_writes(monkeypatch, buyer, "600", on_pass=2)
    first, second = orders_place_batch(participant=buyer, requests=[order, order])
    message = f"This order needs a hold of {need} CNY; 400.0000 CNY is available."
    assert isinstance(first, InsufficientFunds)
    assert str(first) == message
    assert isinstance(second, InsufficientFunds)
    assert str(second) == message
    assert not Order.objects.filter(participant=buyer).exists()
    assert balance(buyer) == Decimal("400.0000")
    assert not [f for _n, f in reconcile() if f]
