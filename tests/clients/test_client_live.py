"""The Python client against live servers: orders placed, listed and cancelled over
HTTP into typed models; a refusal raised as its family's exception; a placement whose
answer is lost, sent again, returns the same order; and a market stream that resumes
by itself, with no gap and no duplicate, after its connection drops."""

import threading
from decimal import Decimal

import httpx
import pytest
from yiwang_client import (
    Client,
    Conflict,
    ConnectionFailed,
    InvalidRequest,
    NotAuthenticated,
    NotFound,
    Refused,
    Retry,
)

from exchange.models import Order
from tests.apiclient import api_key
from tests.clients.proxy import DroppingProxy
from tests.exchange.conftest import make_buyer, make_instrument, make_seller
from tests.exchange.streams.live import streams_server
from tests.exchange.streams.test_live import flow, trade_ids

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def instrument(catalogue):
    return make_instrument(band=None)


def client_of(url: str, participant, **kwargs) -> Client:
    return Client(url, token=api_key(participant.user), **kwargs)


def test_place_list_and_cancel_orders(live_server, instrument):
    """A resting buy comes back as a typed order (decimals, times); it is listed,
    fetched and cancelled; cancelled again, it is a Conflict (order_not_open)."""
    buyer = make_buyer(money=100_000)
    with client_of(live_server.url, buyer) as client:
        placed = client.place_order(
            instrument=instrument.symbol,
            side="buy",
            price=Decimal("11.50"),
            quantity="10.0",
            region="CITY-SH",
        )
        assert placed.status == "open"
        assert placed.fills == []
        assert placed.price == Decimal("11.50")
        assert placed.quantity == Decimal("10.0")
        assert placed.client_order_id.startswith("py-")
        page = client.list_orders(instrument=instrument.symbol, status="open")
        assert [o.id for o in page.results] == [placed.id]
        assert page.count == 1
        assert client.get_order(placed.id).remaining_quantity == Decimal("10.0")
        cancelled = client.cancel_order(placed.id)
        assert cancelled.status == "cancelled"
        with pytest.raises(Conflict) as caught:
            client.cancel_order(placed.id)
        assert caught.value.code == "order_not_open"
        assert client.list_orders(status="open").results == []
        assert client.get_account().available == Decimal("100000.0000")


def test_a_trade_fills_both_sides(live_server, instrument):
    """A crossing buy trades with a resting sell: its fills, the seller's fills."""
    seller = make_seller("CITY-SH", "nvidia-a100-80gb-sxm")
    buyer = make_buyer(money=100_000)
    with (
        client_of(live_server.url, seller) as sells,
        client_of(live_server.url, buyer) as buys,
    ):
        sells.place_order(
            instrument=instrument.symbol,
            side="sell",
            price="10.00",
            quantity="5.0",
            cluster=seller.cluster.pk,
        )
        bought = buys.place_order(
            instrument=instrument.symbol, side="buy", price="10.50", quantity="5.0"
        )
        assert bought.status == "filled"
        [fill] = bought.fills
        assert fill.quantity == Decimal("5.0")
        assert fill.liquidity == "taker"
        [sold] = sells.list_fills(instrument=instrument.symbol).results
        assert (sold.trade_id, sold.liquidity) == (fill.trade_id, "maker")
        [trade] = buys.list_trades(instrument.symbol).results
        assert trade.id == fill.trade_id
        assert trade.aggressor == "buy"


def test_errors_become_their_familys_exceptions(live_server, instrument):
    """Each refusal raises its family's class with the API's code, message and
    fields: 400 off the tick, 422 without the money, 401 without a key, 404."""
    buyer = make_buyer(money=10)
    with client_of(live_server.url, buyer) as client:
        with pytest.raises(InvalidRequest) as caught:
            client.place_order(
                instrument=instrument.symbol, side="buy", price="10.001", quantity="1"
            )
        assert caught.value.code == "validation_error"
        assert "price" in caught.value.fields
        with pytest.raises(Refused) as caught:
            client.place_order(
                instrument=instrument.symbol, side="buy", price="10.00", quantity="50.0"
            )
        assert caught.value.code == "insufficient_funds"
        assert caught.value.status == 422
        assert caught.value.message
        with pytest.raises(NotFound):
            client.get_instrument("NO-SUCH-1")
    with Client(live_server.url) as anonymous, pytest.raises(NotAuthenticated):
        anonymous.get_account()
    assert not Order.objects.exists()  # a refused order stores nothing


class LosesFirstAnswer(httpx.HTTPTransport):
    """The server gets the first POST and answers it, but the answer never comes
    back: the connection breaks first."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        self.statuses.append(response.status_code)
        if request.method == "POST" and len(self.statuses) == 1:
            raise httpx.ReadError("connection reset before the answer", request=request)
        return response


def test_placement_retried_after_a_lost_answer_returns_the_same_order(
    live_server, instrument
):
    """The first POST placed the order (201) but its answer was lost; the client
    sends the same body again and gets that order back (200): one order, not two."""
    buyer = make_buyer(money=100_000)
    transport = LosesFirstAnswer()
    retry = Retry(first_delay=0.01)
    with client_of(live_server.url, buyer, transport=transport, retry=retry) as client:
        order = client.place_order(
            instrument=instrument.symbol, side="buy", price="11.00", quantity="3.0"
        )
    assert transport.statuses == [201, 200]
    [stored] = Order.objects.filter(participant=buyer)
    assert order.id == stored.pk
    assert order.client_order_id == stored.client_order_id
    assert order.quantity == Decimal("3.0")


class Reader(threading.Thread):
    """Iterates a market stream in a thread, keeping every event."""

    def __init__(self, stream) -> None:
        super().__init__(daemon=True)
        self.stream, self.events = stream, []
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            for event in self.stream:
                self.events.append(event)
        except ConnectionFailed:  # the server is gone: how a test's reader ends
            if not self.stopping.is_set():
                raise

    def trades(self) -> list[int]:
        return [e.data["id"] for e in self.events if e.event == "trade"]

    def wait_for(self, predicate, timeout: float = 30) -> None:
        finished = threading.Event()
        for _ in range(int(timeout / 0.05)):
            if predicate(self):
                return
            finished.wait(0.05)
        raise AssertionError(f"timed out; got {self.events[-3:]}")


@pytest.mark.postgres
def test_market_stream_resumes_after_a_drop_with_no_gap_and_no_duplicate(catalogue):
    """The stream's connection is cut twice while orders trade; the iterator
    connects again by itself with Last-Event-ID and, across its connections, has
    every trade exactly once and in sequence order, and only one snapshot."""
    instrument = make_instrument(band=None)
    buyer = make_buyer(money=10**9)
    seller = make_seller("CITY-SH", "nvidia-a100-80gb-sxm", count=10**6, money=10**9)
    market = (instrument, buyer, seller)
    with streams_server(redis=False) as url:
        proxy = DroppingProxy(int(url.rsplit(":", 1)[1]))
        client = Client(proxy.url, retry=Retry(attempts=2, first_delay=0.05))
        reader = Reader(client.market_stream([instrument.symbol]))
        reader.start()
        reader.wait_for(lambda r: any(e.event == "book" for e in r.events))
        for seed in (11, 12, 13):
            flow(market, 40, seed=seed)
            last = trade_ids(instrument)[-1]
            reader.wait_for(lambda r, last=last: last in r.trades())
            proxy.drop()
        flow(market, 40, seed=14)
        last = trade_ids(instrument)[-1]
        reader.wait_for(lambda r: last in r.trades())
        reader.stopping.set()
        proxy.close()
        reader.join(timeout=10)
        client.close()
    assert not reader.is_alive(), "the iterator did not end with the server"
    assert reader.trades() == trade_ids(instrument)
    assert len(set(reader.trades())) == len(reader.trades()) > 40
    assert [e.event for e in reader.events].count("book") == 1
    resumed = [r for r in proxy.requests if b"last-event-id:" in r.lower()]
    assert len(proxy.requests) >= 4
    assert len(resumed) == len(proxy.requests) - 1
