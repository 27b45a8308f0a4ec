"""The placement pipeline's blast radius: an order that fails for an unexpected
reason fails alone, and a request for an instrument nobody listed leaves nothing
behind in the process."""

from decimal import Decimal

import pytest

from exchange import books
from exchange.exceptions import InvalidOrder, OrderFailed
from exchange.models import Order
from exchange.services import group, rules
from exchange.services.placement import order_place, orders_place_batch
from exchange.services.requests import OrderRequest, Placed
from settlement.models import Hold
from tests.exchange.conftest import make_buyer, make_instrument
from tests.settlement.helpers import balance

pytestmark = pytest.mark.django_db(transaction=True)
BROKEN = Decimal("7.7")  # the quantity whose check breaks


def _buy(instrument, quantity: str, price: str = "11.00") -> OrderRequest:
    return OrderRequest(
        instrument=instrument.symbol,
        side="buy",
        price=Decimal(price),
        quantity=Decimal(quantity),
    )


@pytest.fixture
def broken_check(monkeypatch):
    """The rules fail with an unexpected error for one order (a bug, not a refusal)."""
    check_terms = rules.check_terms

    def check(order, instrument):
        if order.quantity == BROKEN:
            raise RuntimeError("a bug in the rules")
        check_terms(order, instrument)

    monkeypatch.setattr(rules, "check_terms", check)


def test_an_order_that_fails_unexpectedly_fails_alone(catalogue, broken_check):
    """In a batch (a group placed in one transaction), the order whose placement
    raises an unexpected error is answered with `internal_error` and writes
    nothing; the orders around it are placed and hold their money."""
    instrument = make_instrument()
    buyer = make_buyer(money=10_000)
    requests = [_buy(instrument, "1.0"), _buy(instrument, str(BROKEN))]
    requests.append(_buy(instrument, "2.0"))
    first, failed, last = orders_place_batch(participant=buyer, requests=requests)

    assert isinstance(failed, OrderFailed)
    assert failed.code == "internal_error"
    assert isinstance(first, Placed)
    assert isinstance(last, Placed)
    placed = Order.objects.filter(participant=buyer)
    assert sorted(o.quantity for o in placed) == [Decimal("1.0"), Decimal("2.0")]
    holds = Hold.objects.filter(participant=buyer, status=Hold.Status.OPEN)
    assert sorted(h.amount for h in holds) == [
        rules.order_need(first.order, instrument),
        rules.order_need(last.order, instrument),
    ]
    assert balance(buyer, "held") == sum(h.amount for h in holds)


def test_a_single_order_that_fails_unexpectedly_writes_nothing(catalogue, broken_check):
    """Alone, the failing order is refused with `internal_error` and nothing is
    held; the next order on the instrument is placed as usual."""
    instrument = make_instrument()
    buyer = make_buyer(money=10_000)
    with pytest.raises(OrderFailed):
        order_place(participant=buyer, request=_buy(instrument, str(BROKEN)))
    assert not Order.objects.filter(participant=buyer).exists()
    assert balance(buyer, "held") == 0
    placed = order_place(participant=buyer, request=_buy(instrument, "1.0"))
    assert placed.order.status == Order.Status.OPEN


def test_an_unlisted_symbol_leaves_no_state_behind(catalogue):
    """An order for an instrument nobody listed is a 400 and leaves neither a
    group-commit queue nor a warm book behind in the process."""
    buyer = make_buyer(money=10_000)
    symbols = [f"NOPE-2099010{i}" for i in range(3)]
    for symbol in symbols:
        request = OrderRequest(
            instrument=symbol, side="buy", price=Decimal("11.00"), quantity=Decimal(1)
        )
        with pytest.raises(InvalidOrder, match="Unknown instrument"):
            order_place(participant=buyer, request=request)
    assert not set(symbols) & set(group._queues)
    assert all(books.warm(symbol) is None for symbol in symbols)
    assert not set(symbols) & set(books._ids)
