"""The streams against a live streams process (uvicorn, PostgreSQL; Redis pub/sub
or the embedded default's polling): every trade once, in sequence order, across a
disconnection; a slow client dropped and resumed; the private stream private."""

import random
import threading
from decimal import Decimal

import pytest
from django.db.models import Q

from exchange import selectors
from exchange.models import Order, Trade
from exchange.streams import log
from exchange.streams.feeds import read_range
from exchange.streams.projection import Projector
from tests.apiclient import api_key
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.exchange.streams.live import SseClient, streams_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def market(catalogue):
    instrument = make_instrument(band=None)
    buyer = make_buyer(money=10**9)
    seller = make_seller("CITY-SH", "nvidia-a100-80gb-sxm", count=10**6, money=10**9)
    return instrument, buyer, seller


def flow(market, count: int, seed: int) -> None:
    """`count` orders around 10.00, two in five crossing the spread."""
    instrument, buyer, seller = market
    rng = random.Random(seed)
    for _ in range(count):
        side, off = rng.choice(("buy", "sell")), rng.randint(1, 20)
        cross = rng.random() < 0.4
        cents = (1030 + off if cross else 1000 - off) if side == "buy" else None
        if side == "sell":
            cents = 970 - off if cross else 1030 + off
        who = buyer if side == "buy" else seller
        place(who, instrument, side, rng.randint(1, 5), f"{cents / 100:.2f}")


def trade_ids(instrument) -> list[int]:
    return list(
        Trade.objects.filter(instrument=instrument)
        .order_by("sequence")
        .values_list("pk", flat=True)
    )


def seen_all(instrument):
    last = trade_ids(instrument)[-1]
    return lambda client: any(t["id"] == last for t in client.of("trade"))


def at_head(instrument):
    """The client's position has reached the instrument's last sequence number."""
    instrument.refresh_from_db()
    head = instrument.sequence
    return lambda c: c.last_id and int(c.last_id.split(":")[1].split(".")[0]) >= head


def market_url(url: str, instrument) -> str:
    return f"{url}/api/v1/stream/market/?instruments={instrument.symbol}"


def book_of(*clients: SseClient) -> dict:
    """The levels that clients' events make: the first's snapshot, then every level
    event of each in turn."""
    [snapshot] = clients[0].of("book")
    levels = {}
    for a in snapshot["asks"]:
        levels["sell", a["price"], a["region"], a["stack"]] = a["quantity"]
    for b in snapshot["bids"]:
        levels["buy", b["price"], b["region"], None] = b["quantity"]
    for d in (d for client in clients for d in client.of("level")):
        levels[d["side"], d["price"], d["region"], d["stack"]] = d["quantity"]
    return {k: Decimal(q) for k, q in levels.items() if Decimal(q)}


def positions(*clients: SseClient) -> list[tuple[int, int]]:
    """The (seq, n) of every trade and level event, in the order received."""
    return [
        (int(i.split(":")[1].split(".")[0]), int(i.split(".")[1]))
        for client in clients
        for i, name, _d in client.events
        if name in ("trade", "level")
    ]


def book_now(instrument) -> dict:
    book = selectors.order_book_get(instrument=instrument, depth=500)
    levels = {
        ("sell", str(a["price"]), a["region"], a["stack"]): a["quantity"]
        for a in book["asks"]
    }
    levels |= {
        ("buy", str(b["price"]), b["region"], None): b["quantity"] for b in book["bids"]
    }
    return levels


def logged(instrument, clients) -> list[tuple[int, int]]:
    """The (seq, n) of every trade and level event the log gives after the first
    client's snapshot, numbered by folding the whole log again here."""
    [snapshot] = clients[0].of("book")
    head = log.heads(ids=[instrument.pk])[0]
    rows, trades = read_range(head, 0, 100_000)
    projector = Projector(head.symbol, head.tick, head.lot)
    events = projector.project(rows, {s: t["print"] for s, t in trades.items()})
    start = snapshot["seq"]
    return [(e.seq, e.n) for e in events if e.seq > start]


def check_resumed(instrument, first: SseClient, second: SseClient) -> None:
    """Across the two connections each trade once, in sequence order; every event
    the log has after the snapshot exactly once, in order; the database's book."""
    got = [t["id"] for t in first.of("trade")] + [t["id"] for t in second.of("trade")]
    assert got == trade_ids(instrument)
    assert not second.of("book"), "resumed from the log, not a fresh snapshot"
    assert positions(first, second) == logged(instrument, [first])
    assert book_of(first, second) == book_now(instrument)


def test_every_trade_once_in_order_across_a_disconnection_with_redis(market):
    """One client stays for 500 orders and sees every trade in sequence order and
    ends with the database's book; another leaves for 100 of them and, resumed
    with Last-Event-ID, still sees each trade exactly once."""
    instrument = market[0]
    with streams_server(redis=True) as url:
        stays = SseClient(market_url(url, instrument))
        leaves = SseClient(market_url(url, instrument))
        stays.start(), leaves.start()
        for client in (stays, leaves):
            client.wait_for(lambda c: c.of("book"))
        flow(market, 200, seed=1)
        leaves.wait_for(seen_all(instrument))
        leaves.stop()
        flow(market, 100, seed=2)
        back = SseClient(market_url(url, instrument), {"Last-Event-ID": leaves.last_id})
        back.start()
        flow(market, 200, seed=3)
        for client in (stays, back):
            client.wait_for(seen_all(instrument))
            client.wait_for(at_head(instrument))
        stays.stop(), back.stop()
    assert len(trade_ids(instrument)) > 100
    assert [t["id"] for t in stays.of("trade")] == trade_ids(instrument)
    assert positions(stays) == logged(instrument, [stays])
    assert book_of(stays) == book_now(instrument)
    check_resumed(instrument, leaves, back)


def test_every_trade_once_across_a_disconnection_without_redis(market):
    """The embedded default: no Redis, the streams process polls the event log."""
    instrument = market[0]
    with streams_server(redis=False) as url:
        first = SseClient(market_url(url, instrument))
        first.start()
        first.wait_for(lambda c: c.of("book"))
        flow(market, 60, seed=4)
        first.wait_for(seen_all(instrument))
        first.stop()
        flow(market, 40, seed=5)
        back = SseClient(market_url(url, instrument), {"Last-Event-ID": first.last_id})
        back.start()
        flow(market, 60, seed=6)
        back.wait_for(seen_all(instrument))
        back.wait_for(at_head(instrument))
        back.stop()
    check_resumed(instrument, first, back)


def test_a_client_that_does_not_read_is_dropped_and_resumes(market):
    """With a small queue, a client that stops reading is cut off (its stream
    ends); resumed from the last id it read, it misses nothing and repeats nothing."""
    instrument = market[0]
    with streams_server(
        redis=True, send_buffer=4096, EXCHANGE_STREAMS_QUEUE="4"
    ) as url:
        slow = SlowClient(market_url(url, instrument))
        slow.start()
        slow.wait_for(lambda c: c.of("book"))
        slow.reading.clear()  # stops reading: the socket's buffers fill
        flow(market, 300, seed=7)
        slow.reading.set()
        assert slow.ended.wait(20), "the server never dropped the slow client"
        assert len(slow.of("trade")) < len(trade_ids(instrument))
        back = SseClient(market_url(url, instrument), {"Last-Event-ID": slow.last_id})
        back.start()
        back.wait_for(seen_all(instrument))
        back.wait_for(at_head(instrument))
        back.stop()
    check_resumed(instrument, slow, back)


class SlowClient(SseClient):
    """Pauses between events while `reading` is clear; a small receive buffer
    makes the server's writes back up soon."""

    def __init__(self, url: str) -> None:
        super().__init__(url, receive_buffer=4096)
        self.reading = threading.Event()
        self.reading.set()

    def _dispatch(self, fields: dict) -> None:
        self.reading.wait()
        super()._dispatch(fields)


def test_the_private_stream_shows_only_the_participants_own_events(market):
    """Two participants' streams during a shared order flow: each holds exactly its
    own orders' events and its own fills (by trade), nothing of the other's."""
    instrument, buyer, _seller = market
    other = make_buyer(money=10**9)
    keys = {p.pk: api_key(p.user) for p in (buyer, other)}
    with streams_server(redis=True) as url:
        clients = {
            pk: SseClient(
                f"{url}/api/v1/stream/private/", {"Authorization": f"Token {key}"}
            )
            for pk, key in keys.items()
        }
        for client in clients.values():
            client.start()
            client.wait_for(lambda c: c.last_id is not None)
        flow(market, 40, seed=8)
        for _ in range(5):
            place(other, instrument, "buy", 1, "10.50")
        last = {
            pk: Order.objects.filter(participant_id=pk).order_by("-pk").first().pk
            for pk in keys
        }
        for pk, client in clients.items():
            client.wait_for(
                lambda c, pk=pk: any(o["id"] == last[pk] for o in c.of("order"))
            )
        for client in clients.values():
            client.stop()
    for pk, client in clients.items():
        mine = set(Order.objects.filter(participant_id=pk).values_list("pk", flat=True))
        assert {o["id"] for o in client.of("order")} == mine
        fills = Trade.objects.filter(Q(buyer_id=pk) | Q(seller_id=pk))
        assert sorted(f["trade_id"] for f in client.of("fill")) == sorted(
            fills.values_list("pk", flat=True)
        )
    assert clients[buyer.pk].of("fill"), "the buyer traded"
