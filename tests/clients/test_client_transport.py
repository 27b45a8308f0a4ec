"""The Python client's transport without a server (httpx's MockTransport): what it
tries again and what it does not, the error envelope as exceptions, Decimal in and
out, and a stream that resumes with Last-Event-ID after its connection drops."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from yiwang_client import (
    AsyncClient,
    Client,
    Conflict,
    ConnectionFailed,
    InvalidRequest,
    NotAuthenticated,
    Refused,
    Retry,
    ServerError,
    Throttled,
)
from yiwang_client.streams import SseParser

URL = "http://exchange.test"
ORDER = {
    "id": 7,
    "instrument": "TRAIN-20261208",
    "side": "buy",
    "type": "limit",
    "time_in_force": "GTC",
    "post_only": False,
    "price": "12.50",
    "quantity": "10.0",
    "client_order_id": "x",
    "expires_at": None,
    "cluster": None,
    "region": "CITY-SH",
    "stack": None,
    "constraints": None,
    "attributes": None,
    "status": "open",
    "cancel_reason": "",
    "filled_quantity": "0.0",
    "remaining_quantity": "10.0",
    "average_price": None,
    "created_at": "2026-12-07T10:00:00+08:00",
    "sequence": 3,
    "fills": [],
}


def envelope(status: int, code: str, fields=None, **headers) -> httpx.Response:
    body = {"error": {"code": code, "message": f"{code}!", "fields": fields or {}}}
    return httpx.Response(status, json=body, headers=headers)


class Script:
    """Answers requests in turn from a list (a Response, or an exception to
    raise), recording each request."""

    def __init__(self, *answers) -> None:
        self.answers, self.requests = list(answers), []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client_with(script: Script, **kwargs) -> tuple[Client, list[float]]:
    slept: list[float] = []
    client = Client(
        URL,
        token="k",
        transport=httpx.MockTransport(script),
        sleep=slept.append,
        **kwargs,
    )
    return client, slept


def test_place_order_after_a_lost_answer_sends_the_same_body_again():
    """The answer to the first POST is lost (the order may be placed): the client
    sends the same body, client_order_id included, and returns the 200's order."""
    script = Script(httpx.ReadError("lost"), httpx.Response(200, json=ORDER))
    client, slept = client_with(script)
    order = client.place_order(
        instrument="TRAIN-20261208", side="buy", price=Decimal("12.50"), quantity="10.0"
    )
    first, second = (json.loads(r.content) for r in script.requests)
    assert first == second
    assert first["client_order_id"].startswith("py-")
    assert first["price"] == "12.50"
    assert first["quantity"] == "10.0"
    assert "expires_at" not in first  # None is left to the server's default
    assert script.requests[0].headers["Authorization"] == "Token k"
    assert order.id == 7
    assert order.price == Decimal("12.50")
    assert order.created_at.utcoffset().total_seconds() == 8 * 3600
    assert len(slept) == 1


def test_a_call_that_is_not_idempotent_is_not_sent_twice_after_a_lost_answer():
    """A key created by the first request would be lost: raise, do not resend;
    a connection that was never made is tried again, though."""
    script = Script(httpx.ReadError("lost"))
    client, _ = client_with(script)
    with pytest.raises(ConnectionFailed):
        client.create_token(username="u", password="p")
    assert len(script.requests) == 1
    token = {
        "key": "abc",
        "name": "api",
        "prefix": "abc",
        "created_at": "2026-12-07T10:00:00+08:00",
        "expires_at": None,
    }
    script = Script(httpx.ConnectError("refused"), httpx.Response(201, json=token))
    client, _ = client_with(script)
    assert client.create_token(username="u", password="p").key == "abc"


def test_429_waits_for_retry_after_and_5xx_backs_off():
    script = Script(
        envelope(429, "throttled", **{"Retry-After": "3"}),
        envelope(503, "unavailable"),
        httpx.Response(200, json={"cancelled": [1, 2]}),
    )
    client, slept = client_with(script)
    assert client.cancel_orders(instrument="TRAIN-20261208").cancelled == [1, 2]
    assert slept[0] >= 3
    assert 0.2 <= slept[1] < 3
    assert script.requests[0].url.params["instrument"] == "TRAIN-20261208"


def test_retries_end_with_the_last_error():
    script = Script(*[envelope(429, "throttled", **{"Retry-After": "1"})] * 3)
    client, slept = client_with(script, retry=Retry(attempts=3))
    with pytest.raises(Throttled) as caught:
        client.get_account()
    assert caught.value.retry_after == 1
    assert len(slept) == 2
    script = Script(*[envelope(500, "server_error")] * 2)
    client, _ = client_with(script, retry=Retry(attempts=2))
    with pytest.raises(ServerError):
        client.get_account()


@pytest.mark.parametrize(
    ("status", "code", "family"),
    [
        (400, "validation_error", InvalidRequest),
        (401, "not_authenticated", NotAuthenticated),
        (409, "client_order_id_conflict", Conflict),
        (422, "insufficient_funds", Refused),
    ],
)
def test_error_envelope_becomes_its_familys_exception(status, code, family):
    """Refusals are raised at once (never retried) with code, message, fields."""
    script = Script(envelope(status, code, {"price": ["Not on the tick."]}))
    client, slept = client_with(script)
    with pytest.raises(family) as caught:
        client.place_order(instrument="T", side="sell", price="1.001", quantity="1")
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.message == f"{code}!"
    assert caught.value.fields == {"price": ["Not on the tick."]}
    assert slept == []


def test_a_float_for_a_decimal_is_refused_before_sending():
    client, _ = client_with(Script())
    with pytest.raises(TypeError, match="never float"):
        client.place_order(instrument="T", side="buy", price=12.5, quantity="1.0")


def test_batch_orders_get_their_own_client_order_ids():
    from yiwang_client import NewOrder

    answer = {"results": [{"status": 201, "order": ORDER}, {"status": 422}]}
    script = Script(httpx.Response(200, json=answer))
    client, _ = client_with(script)
    batch = client.place_orders(
        [
            NewOrder(instrument="T", side="buy", price="1.00", quantity="1.0"),
            NewOrder(
                instrument="T",
                side="buy",
                price="1.00",
                quantity="1.0",
                client_order_id="mine",
            ),
        ]
    )
    sent = json.loads(script.requests[0].content)["orders"]
    assert sent[0]["client_order_id"].startswith("py-")
    assert sent[1]["client_order_id"] == "mine"
    assert batch.results[0].order.id == 7
    assert batch.results[1].order is None


def test_paginate_follows_next_pages():
    fill = {
        "trade_id": 1,
        "order_id": 2,
        "instrument": "T",
        "side": "buy",
        "price": "1.00",
        "surcharge": "0.00",
        "all_in_price": "1.00",
        "quantity": "1.0",
        "fee": "0.0000",
        "liquidity": "maker",
        "executed_at": "2026-12-07T10:00:00+08:00",
        "carbon_kg": None,
    }
    page = {"next": f"{URL}/api/v1/fills/?cursor=abc&limit=1", "previous": None}
    script = Script(
        httpx.Response(200, json=page | {"results": [fill]}),
        httpx.Response(200, json={"next": None, "previous": None, "results": [fill]}),
    )
    client, _ = client_with(script)
    assert len(list(client.paginate(client.list_fills, instrument="T", limit=1))) == 2
    assert script.requests[1].url.params["cursor"] == "abc"


def test_sse_parser_follows_the_event_stream_format():
    parser = SseParser()
    lines = [": ping", "retry: 1000", "id: A:1.0", "", "id: A:2.0", "event: trade"]
    lines += ['data: {"id": 1,', 'data:  "price": "1.00"}', ""]
    events = [e for line in lines if (e := parser.feed(line)) is not None]
    assert len(events) == 1
    assert events[0].event == "trade"
    assert events[0].id == "A:2.0"
    assert events[0].data == {"id": 1, "price": "1.00"}
    assert parser.retry_ms == 1000
    assert parser.last_id == "A:2.0"


def sse(*events: tuple[str, str, dict]) -> bytes:
    return "".join(
        f"id: {i}\nevent: {name}\ndata: {json.dumps(data)}\n\n"
        for i, name, data in events
    ).encode()


class DroppedBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that ends with a broken connection after its bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self):
        yield self.data
        raise httpx.RemoteProtocolError("peer closed connection")

    async def __aiter__(self):
        yield self.data
        raise httpx.RemoteProtocolError("peer closed connection")


def stream_script() -> Script:
    first = sse(("A:1.0", "book", {"seq": 1}), ("A:2.0", "trade", {"id": 10}))
    second = sse(("A:3.0", "trade", {"id": 11}))
    redirect = {"Location": "http://streams.test/api/v1/stream/market/?instruments=A"}
    return Script(
        httpx.Response(307, headers=redirect),
        httpx.Response(200, stream=DroppedBody(first)),
        httpx.Response(200, stream=DroppedBody(second)),
    )


def test_stream_follows_the_redirect_and_resumes_after_a_drop():
    """A 307 to the streams process is followed with the key; when the connection
    breaks, the stream connects again with the last id and goes on from there."""
    script = stream_script()
    client, slept = client_with(script)
    stream = client.market_stream(["A"])
    got = [next(stream) for _ in range(3)]
    stream.close()
    assert [(e.id, e.event) for e in got] == [
        ("A:1.0", "book"),
        ("A:2.0", "trade"),
        ("A:3.0", "trade"),
    ]
    redirected, first, resumed = script.requests
    assert redirected.url.host == "exchange.test"
    assert first.url.host == "streams.test"
    assert first.headers["Authorization"] == "Token k"
    assert "Last-Event-ID" not in first.headers
    assert resumed.headers["Last-Event-ID"] == "A:2.0"
    assert resumed.headers["Accept"] == "text/event-stream"
    assert len(slept) == 1  # before the resumption, not after the redirect
    assert stream.last_event_id == "A:3.0"


def test_async_client_reads_and_resumes_the_same_way():
    async def run():
        script = stream_script()
        slept = []

        async def sleep(seconds):
            slept.append(seconds)

        async with AsyncClient(
            URL, token="k", transport=httpx.MockTransport(script), sleep=sleep
        ) as client:
            stream = client.market_stream(["A"], last_event_id="A:0.0")
            got = [await anext(stream) for _ in range(3)]
            await stream.aclose()
        assert [e.id for e in got] == ["A:1.0", "A:2.0", "A:3.0"]
        assert script.requests[1].headers["Last-Event-ID"] == "A:0.0"
        assert script.requests[2].headers["Last-Event-ID"] == "A:2.0"
        script = Script(httpx.ReadError("lost"), httpx.Response(200, json=ORDER))
        async with AsyncClient(
            URL, transport=httpx.MockTransport(script), sleep=sleep
        ) as client:
            order = await client.place_order(instrument="T", side="buy", quantity="1")
        first, second = (json.loads(r.content) for r in script.requests)
        assert first == second
        assert order.quantity == Decimal("10.0")

    # In a thread of its own: the browser tests' Playwright (sync API) keeps an event
    # loop running in this one for the session.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()
