"""The stream endpoints as a WSGI worker serves them (and as schemathesis calls
them): one answer that ends, never a held thread; the refusals of the contract;
and a redirect to the streams process when one is configured."""

import json
from decimal import Decimal

import pytest
from django.test import override_settings

from tests.apiclient import client_for, error
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place

pytestmark = pytest.mark.django_db
MARKET = "/api/v1/stream/market/"
PRIVATE = "/api/v1/stream/private/"


def events(response) -> list[tuple[str | None, str | None, dict | None]]:
    """(id, event, data) of each block of an event stream that ended."""
    assert response.status_code == 200, getattr(response, "content", b"")
    assert response["Content-Type"].startswith("text/event-stream")
    text = b"".join(response.streaming_content).decode()
    out = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line
        )
        if "id" in fields or "event" in fields:
            data = json.loads(fields["data"]) if "data" in fields else None
            out.append((fields.get("id"), fields.get("event"), data))
    return out


@pytest.fixture
def book(catalogue):
    instrument = make_instrument(band=None)
    buyer, seller = make_buyer(), make_seller()
    place(seller, instrument, "sell", "3.0", "12.50")
    place(seller, instrument, "sell", "1.0", "12.50")
    place(buyer, instrument, "buy", "2.0", "11.00")
    return instrument, buyer, seller


def test_a_worker_answers_the_market_stream_with_a_snapshot_that_ends(book):
    """EventSource's Accept is negotiated (no 406); the snapshot has the book's
    levels, its sequence number and state, and its id is the stream's position."""
    instrument, _b, _s = book
    response = client_for().get(
        MARKET, {"instruments": instrument.symbol}, HTTP_ACCEPT="text/event-stream"
    )
    [(event_id, name, data)] = events(response)
    assert name == "book"
    assert event_id == f"{instrument.symbol}:3.0"
    assert data["seq"] == 3
    assert data["state"] == "open"
    assert data["asks"] == [
        {"price": "12.50", "quantity": "4.0", "region": "CLU-GUIAN", "stack": "CANN"}
    ]
    assert data["bids"] == [{"price": "11.00", "quantity": "2.0", "region": "CITY-SH"}]
    assert "reset" not in data


def test_a_worker_lists_the_suspended_regions_after_the_snapshot(book):
    from exchange.services.regions import region_suspend
    from tests.operators import staff

    instrument, _b, _s = book
    region_suspend(region="CLU-WUHU", reason="flood", operator=staff("op-s"))
    response = client_for().get(MARKET, {"instruments": instrument.symbol})
    [snapshot, region] = events(response)
    assert snapshot[1] == "book"
    assert region == (
        None,
        "region",
        {"region": "CLU-WUHU", "suspended": True, "reason": "flood"},
    )


def test_a_resuming_client_of_a_worker_gets_a_reset_snapshot(book):
    instrument, _b, _s = book
    response = client_for().get(
        MARKET,
        {"instruments": instrument.symbol},
        HTTP_LAST_EVENT_ID=f"{instrument.symbol}:1.0",
    )
    [(_id, name, data)] = events(response)
    assert name == "book"
    assert data["reset"] is True


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"instruments": "NOPE-1"}, 404, "not_found"),
        (
            {"instruments": ",".join(f"S{i}" for i in range(21))},
            400,
            "validation_error",
        ),
        ({"instruments": "A,,B"}, 400, "validation_error"),
        ({}, 400, "validation_error"),
    ],
)
def test_market_stream_refusals(book, query, status, code):
    response = client_for().get(MARKET, query, HTTP_ACCEPT="text/event-stream")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert error(response)["code"] == code


def test_a_malformed_position_is_a_400(book):
    instrument, _b, _s = book
    response = client_for().get(
        MARKET, {"instruments": instrument.symbol}, HTTP_LAST_EVENT_ID="yesterday"
    )
    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"


def test_the_private_stream_needs_a_participants_key(book):
    assert client_for().get(PRIVATE).status_code == 401


def test_a_worker_answers_the_private_stream_with_what_was_missed(book):
    """From a position, the participant's own events since, and nothing else."""
    instrument, buyer, seller = book
    client = client_for(buyer)
    [(start, name, _data)] = events(client.get(PRIVATE))
    assert name is None  # an id-only block: where the stream starts
    place(buyer, instrument, "buy", "1.0", "14.00")  # takes 1.0 of the 12.50 asks
    place(seller, instrument, "sell", "1.0", "15.00")  # not the buyer's
    got = events(client.get(PRIVATE, HTTP_LAST_EVENT_ID=start))
    assert [name for _id, name, _d in got if name] == ["order", "order", "fill"]
    accepted, filled, fill = (data for _id, name, data in got if name)
    assert accepted["change"] == "accepted"
    assert accepted["status"] == "open"
    assert accepted["remaining_quantity"] == "1.0"
    assert filled["change"] == "fill"
    assert filled["status"] == "filled"
    assert filled["filled_quantity"] == "1.0"
    assert filled["remaining_quantity"] == "0.0"
    assert filled["id"] == accepted["id"] == fill["order_id"]
    assert Decimal(filled["average_price"]) == Decimal(fill["all_in_price"])
    assert fill["side"] == "buy"
    assert fill["quantity"] == "1.0"
    assert "carbon_kg" in fill
    assert events(client.get(PRIVATE, HTTP_LAST_EVENT_ID=got[-1][0]))[-1][1] is None


@override_settings(EXCHANGE_STREAMS_URL="http://127.0.0.1:8001")
def test_a_worker_redirects_to_the_streams_process_when_there_is_one(book):
    instrument, _b, _s = book
    response = client_for().get(MARKET, {"instruments": instrument.symbol})
    assert response.status_code == 307
    assert response["Location"] == (
        f"http://127.0.0.1:8001{MARKET}?instruments={instrument.symbol}"
    )


@override_settings(EXCHANGE_STREAMS_SETTLEMENT_LAG_SECONDS=0)
def test_the_private_stream_tells_deliveries_and_settlement(book):
    """A delivery report and a settlement of the participant's trade come as
    `delivery` and `settlement` events, to both sides, once each."""
    from django.utils import timezone

    from settlement.models import DeliveryReport, Obligation

    instrument, buyer, seller = book
    place(buyer, instrument, "buy", "1.0", "14.00")
    obligation = Obligation.objects.get()
    starts = {p.pk: events(client_for(p).get(PRIVATE))[0][0] for p in (buyer, seller)}
    DeliveryReport.objects.create(obligation=obligation, delivered_quantity="1.0")
    Obligation.objects.filter(pk=obligation.pk).update(
        status="settled", settled_at=timezone.now(), delivered_quantity="1.0"
    )
    for participant in (buyer, seller):
        client = client_for(participant)
        got = events(client.get(PRIVATE, HTTP_LAST_EVENT_ID=starts[participant.pk]))
        named = [(name, data) for _id, name, data in got if name]
        assert [name for name, _d in named] == ["delivery", "settlement"]
        delivery, settled = (data for _n, data in named)
        assert delivery["change"] == "reported"
        assert delivery["delivered_quantity"] == "1.0"
        assert delivery["trade_id"] == obligation.trade_id
        assert settled["status"] == "settled"
        assert delivery["role"] == ("buyer" if participant == buyer else "seller")
        again = events(client.get(PRIVATE, HTTP_LAST_EVENT_ID=got[-1][0]))
        assert [name for _id, name, _d in again if name] == []


@override_settings(EXCHANGE_STREAMS_SETTLEMENT_LAG_SECONDS=0)
def test_a_private_position_older_than_a_day_starts_again_from_now(book):
    """A position older than a day gets a `reset` event and the stream starts from
    now: resumed from the reset's id, nothing from before comes back, not even a
    delivery report."""
    import time

    from exchange.streams.positions import PrivatePosition
    from settlement.models import DeliveryReport, Obligation

    instrument, buyer, _seller = book
    place(buyer, instrument, "buy", "1.0", "14.00")
    DeliveryReport.objects.create(
        obligation=Obligation.objects.get(), delivered_quantity="1.0"
    )
    client = client_for(buyer)
    old = PrivatePosition(int((time.time() - 2 * 86400) * 1000)).format()
    named = [e for e in events(client.get(PRIVATE, HTTP_LAST_EVENT_ID=old)) if e[1]]
    assert [(name, data) for _id, name, data in named] == [
        ("reset", {"reason": "too_far_behind"})
    ]
    again = events(client.get(PRIVATE, HTTP_LAST_EVENT_ID=named[0][0]))
    assert [name for _id, name, _d in again if name] == []
