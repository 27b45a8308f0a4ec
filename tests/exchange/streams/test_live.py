"""The streams against a live streams process (uvicorn, PostgreSQL; Redis pub/sub
or the embedded default's polling): every trade once, in sequence order, across a
disconnection; a slow client dropped and resumed; the private stream private (orders,
fills, deliveries, settlement); five open streams per participant; heartbeats; a
fresh snapshot marked reset for a client too far behind."""

import random
import threading
import time
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exchange import selectors
from exchange.models import Order, Trade
from exchange.services.orders import order_amend, order_cancel
from exchange.streams import log
from exchange.streams.feeds import read_range
from exchange.streams.projection import Projector
from settlement.models import Obligation
from settlement.services import delivery_confirm, delivery_report, trade_settle
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


@pytest.mark.parametrize("redis", [True, False], ids=["redis", "polling"])
def test_every_trade_once_in_order_across_a_disconnection(market, redis):
    """One client stays for 500 orders and sees every trade in sequence order and
    ends with the database's book; another leaves for 100 of them and, resumed
    with Last-Event-ID, still sees each trade exactly once. With Redis pub/sub
    waking the streams, and in the embedded default without it (the streams
    process polls the event log)."""
    instrument = market[0]
    with streams_server(redis=redis) as url:
        stays = SseClient(market_url(url, instrument))
        leaves = SseClient(market_url(url, instrument))
        stays.start(), leaves.start()
        for client in (stays, leaves):
            client.wait_for(lambda c: c.of("book"))
        flow(market, 200, seed=1)
        leaves.wait_for(seen_all(instrument))
        leaves.stop()
        before = set(trade_ids(instrument))
        flow(market, 100, seed=2)
        away = set(trade_ids(instrument)) - before  # made while it was away
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
    assert away, "trades were made while it was away"
    assert away <= {t["id"] for t in back.of("trade")}


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


def deliver_and_settle(trade: Trade) -> None:
    """The seller reports the trade delivered in full, the buyer confirms, and it
    settles: its window moved to the past, as if the day had come and gone."""
    now = timezone.now()
    Obligation.objects.filter(trade_id=trade.pk).update(
        delivery_start=now - timedelta(hours=2),
        delivery_end=now - timedelta(hours=1),
        report_deadline=now + timedelta(hours=1),
        confirm_deadline=now + timedelta(hours=2),
    )
    with transaction.atomic():
        delivery_report(
            participant=trade.seller,
            trade_id=trade.pk,
            delivered=trade.quantity,
            now=timezone.now(),
        )
    with transaction.atomic():
        delivery_confirm(participant=trade.buyer, trade_id=trade.pk, now=timezone.now())
    with transaction.atomic():
        assert trade_settle(trade_id=trade.pk, now=timezone.now())


def test_the_private_stream_shows_only_the_participants_own_events(market):
    """Three participants' streams during a shared order flow, an order placed
    the moment the first of them opened: each holds exactly its own orders'
    events (each change once, in sequence order) and its own fills, and the
    delivery and settlement of its own trade, nothing of the others'."""
    instrument, buyer, seller = market
    other = make_buyer(money=10**9)
    people = (buyer, other, seller)
    keys = {p.pk: api_key(p.user) for p in people}
    with streams_server(redis=True) as url:
        clients = {
            pk: SseClient(
                f"{url}/api/v1/stream/private/", {"Authorization": f"Token {key}"}
            )
            for pk, key in keys.items()
        }
        first = clients[other.pk]  # the process's first private stream
        first.start()
        first.wait_for(lambda c: c.last_id is not None)
        place(other, instrument, "buy", 1, "9.00")  # the moment it is open
        for client in clients.values():
            if client is not first:
                client.start()
                client.wait_for(lambda c: c.last_id is not None)
        flow(market, 40, seed=8)
        for _ in range(5):
            place(other, instrument, "buy", 1, "10.50")
        amended = place(buyer, instrument, "buy", 3, "8.00").order
        order_amend(participant=buyer, order_id=amended.pk, price=Decimal("8.10"))
        order_amend(participant=buyer, order_id=amended.pk, quantity=Decimal(2))
        cancelled = place(buyer, instrument, "buy", 1, "8.00").order
        order_cancel(participant=buyer, order_id=cancelled.pk)
        last = {
            pk: Order.objects.filter(participant_id=pk).order_by("-pk").first().pk
            for pk in keys
        }
        for pk, client in clients.items():
            client.wait_for(
                lambda c, pk=pk: any(o["id"] == last[pk] for o in c.of("order"))
            )
        settled = Trade.objects.filter(buyer=buyer).select_related("buyer", "seller")
        settled = settled.order_by("pk").first()
        deliver_and_settle(settled)
        for pk in (buyer.pk, seller.pk):
            clients[pk].wait_for(lambda c: c.of("settlement"))
        for client in clients.values():
            client.stop()
    for pk, client in clients.items():
        mine = set(Order.objects.filter(participant_id=pk).values_list("pk", flat=True))
        changes = [(o["change_seq"], o["id"], o["change"]) for o in client.of("order")]
        assert {o["id"] for o in client.of("order")} == mine
        assert changes == sorted(set(changes)), "each change once, in order"
        fills = Trade.objects.filter(Q(buyer_id=pk) | Q(seller_id=pk))
        assert sorted(f["trade_id"] for f in client.of("fill")) == sorted(
            fills.values_list("pk", flat=True)
        )
    assert clients[buyer.pk].of("fill"), "the buyer traded"
    told = {(o["id"], o["change"], o["status"]) for o in clients[buyer.pk].of("order")}
    assert (amended.pk, "amended", "open") in told
    assert (cancelled.pk, "cancelled", "cancelled") in told
    [smaller] = [
        o
        for o in clients[buyer.pk].of("order")
        if o["id"] == amended.pk and o["quantity"] == "2.0"
    ]
    assert (smaller["price"], smaller["remaining_quantity"]) == ("8.10", "2.0")
    assert clients[other.pk].of("fill"), "the other buyer traded"
    for who, role in ((buyer, "buyer"), (seller, "seller")):
        got = clients[who.pk]
        deliveries = [
            (d["trade_id"], d["change"], d["role"]) for d in got.of("delivery")
        ]
        assert deliveries == [
            (settled.pk, "reported", role),
            (settled.pk, "confirmed", role),
        ]
        [settlement] = got.of("settlement")
        assert settlement["trade_id"] == settled.pk
        assert settlement["status"] == "settled"
    assert not clients[other.pk].of("delivery")
    assert not clients[other.pk].of("settlement")


def test_at_most_five_open_streams_per_participant(market):
    """A participant's sixth open stream, whatever its kind and key (the site's
    own, by session, too), is a 429 in the API's error format; another participant
    is not held back by it, and closing one stream frees its place."""
    _instrument, buyer, seller = market
    first, second = api_key(buyer.user), api_key(buyer.user, name="second")
    private = "/api/v1/stream/private/"
    with streams_server(redis=True) as url:
        market_stream = market_url(url, market[0])
        streams = [
            SseClient(f"{url}{private}", {"Authorization": f"Token {first}"})
            for _ in range(3)
        ] + [
            SseClient(market_stream, {"Authorization": f"Token {second}"})
            for _ in range(2)
        ]
        for client in streams:
            client.start()
            client.wait_for(lambda c: c.status == 200 and c.last_id is not None)
        sixth = httpx.get(
            f"{url}{private}", headers={"Authorization": f"Token {second}"}, timeout=5
        )
        assert sixth.status_code == 429
        assert sixth.json()["error"]["code"] == "throttled"
        assert "Too many open streams" in sixth.json()["error"]["message"]
        page = Client()  # the site's own pages open it with the session
        page.force_login(
            buyer.user, backend="django.contrib.auth.backends.ModelBackend"
        )
        session = page.cookies[settings.SESSION_COOKIE_NAME]
        mine = httpx.get(
            f"{url}{reverse('trading:my-stream')}",
            cookies={session.key: session.value},
            timeout=5,
        )
        assert mine.status_code == 429
        assert mine.json()["error"]["code"] == "throttled"
        others = SseClient(
            f"{url}{private}", {"Authorization": f"Token {api_key(seller.user)}"}
        )
        others.start()
        others.wait_for(lambda c: c.last_id is not None)
        streams.pop().stop()
        again = SseClient(f"{url}{private}", {"Authorization": f"Token {second}"})
        deadline = time.monotonic() + 10
        again.start()
        again.wait_for(lambda c: c.status is not None)
        while again.status == 429 and time.monotonic() < deadline:  # closing
            again = SseClient(f"{url}{private}", {"Authorization": f"Token {second}"})
            again.start()
            again.wait_for(lambda c: c.status is not None)
        assert again.status == 200
        for client in [*streams, others, again]:
            client.stop()


def test_heartbeat_comments_come_at_the_configured_interval(market):
    """Idle market and private streams get a `: ping` comment every heartbeat
    interval (0.3 s for the test's server), and the interval is 15 s at most."""
    assert settings.EXCHANGE_STREAMS_HEARTBEAT_SECONDS <= 15
    _instrument, buyer, _seller = market
    key = api_key(buyer.user)
    with streams_server(redis=True) as url:
        clients = [
            SseClient(market_url(url, market[0])),
            SseClient(
                f"{url}/api/v1/stream/private/", {"Authorization": f"Token {key}"}
            ),
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.wait_for(lambda c: len(c.pings) >= 6, timeout=10)
            client.stop()
    for client in clients:
        gaps = [b - a for a, b in zip(client.pings, client.pings[1:], strict=False)]
        assert max(gaps) < 1.0, gaps  # 0.3 s, and room for a busy machine


def test_a_client_too_far_behind_gets_a_fresh_snapshot_marked_reset(market):
    """With a ring of 10 events, a client that resumes from a position the ring
    has let go gets a `book` snapshot with "reset": true, at the instrument's
    sequence number and with the database's book, then the events after it."""
    instrument = market[0]
    with streams_server(redis=True, EXCHANGE_STREAMS_RING="10") as url:
        first = SseClient(market_url(url, instrument))
        first.start()
        first.wait_for(lambda c: c.of("book"))
        flow(market, 20, seed=9)
        first.wait_for(at_head(instrument))
        early = next(i for i, name, _d in first.events if name in ("trade", "level"))
        first.stop()
        flow(market, 40, seed=10)
        instrument.refresh_from_db()
        back = SseClient(market_url(url, instrument), {"Last-Event-ID": early})
        back.start()
        back.wait_for(lambda c: c.of("book"))
        [(_id, name, snapshot)] = back.events[:1]
        assert name == "book"
        assert snapshot["reset"] is True
        assert snapshot["seq"] == instrument.sequence
        assert book_of(back) == book_now(instrument)
        flow(market, 20, seed=11)
        back.wait_for(at_head(instrument))
        back.stop()
    assert book_of(back) == book_now(instrument)


def test_region_suspension_and_resumption_come_as_region_events(market):
    """An open market stream gets a `region` event when a region is suspended
    (its asks' levels go with the cancels) and when it resumes; a stream opened
    during a suspension starts with it. Region events carry no id: the position
    stays the instruments'."""
    from exchange.services.regions import region_resume, region_suspend
    from tests.operators import staff

    instrument = market[0]
    guian = make_seller("CLU-GUIAN")
    place(guian, instrument, "sell", "2.0", "13.00")
    operator = staff("op-stream", "operator")
    with streams_server(redis=True) as url:
        open_before = SseClient(market_url(url, instrument))
        open_before.start()
        open_before.wait_for(lambda c: c.of("book"))
        region_suspend(region="CLU-GUIAN", reason="grid fault", operator=operator)
        open_before.wait_for(lambda c: c.of("region"))
        assert open_before.of("region") == [
            {"region": "CLU-GUIAN", "suspended": True, "reason": "grid fault"}
        ]
        open_before.wait_for(
            lambda c: any(
                d["region"] == "CLU-GUIAN" and d["quantity"] == "0.0"
                for d in c.of("level")
            )
        )
        during = SseClient(market_url(url, instrument))
        during.start()
        during.wait_for(lambda c: c.of("region"))
        assert during.of("region")[0]["suspended"] is True
        region_resume(region="CLU-GUIAN", operator=operator)
        open_before.wait_for(lambda c: len(c.of("region")) == 2)
        assert open_before.of("region")[1] == {
            "region": "CLU-GUIAN",
            "suspended": False,
            "reason": "",
        }
        open_before.stop(), during.stop()
    assert all(i is None for i, name, _d in open_before.events if name == "region")
    assert open_before.last_id.startswith(f"{instrument.symbol}:")
