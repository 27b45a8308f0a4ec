"""GET /internal/book/<symbol>/: a process's warm book as last applied, behind a
token; equal to the book rebuilt from the event log at its sequence number."""

import pytest

from exchange import books
from exchange.internal import book_replayed, book_rows
from tests.exchange.conftest import make_buyer, make_seller, place

pytestmark = pytest.mark.django_db
TOKEN = "soak-token"


def dump(client, symbol, token=TOKEN):
    return client.get(f"/internal/book/{symbol}/", HTTP_X_INTERNAL_TOKEN=token)


def test_internal_book_is_404_without_the_setting_or_with_a_wrong_token(
    client, settings, instrument
):
    settings.INTERNAL_TOKEN = ""
    assert dump(client, instrument.symbol).status_code == 404
    settings.INTERNAL_TOKEN = TOKEN
    assert dump(client, instrument.symbol, token="wrong").status_code == 404
    assert dump(client, "NO-SUCH-SYMBOL").status_code == 404


def test_internal_book_dumps_the_warm_book_equal_to_the_event_log(
    client, settings, instrument
):
    settings.INTERNAL_TOKEN = TOKEN
    buyer, seller = make_buyer(), make_seller()
    place(buyer, instrument, "buy", "10.0", "12.00")
    place(buyer, instrument, "buy", "5.0", "11.50")
    place(seller, instrument, "sell", "4.0", "11.00")  # fills against the first
    place(seller, instrument, "sell", "6.0", "12.90")
    body = dump(client, instrument.symbol).json()
    assert body["warm"]
    assert body["sequence"] == body["instrument_sequence"] > 0
    assert [o["remaining"] for o in body["orders"]] == [60, 50, 60]
    replayed = book_replayed(instrument, body["sequence"])
    assert body["orders"] == book_rows(replayed)


def test_internal_book_never_warms_a_cold_book(client, settings, instrument):
    """The dump shows what the process has, without catching up or rebuilding."""
    settings.INTERNAL_TOKEN = TOKEN
    place(make_buyer(), instrument, "buy", "10.0", "12.00")
    books.clear()
    body = dump(client, instrument.symbol).json()
    assert (body["warm"], body["sequence"], body["instrument_sequence"]) == (
        False,
        None,
        1,
    )
    assert books.warm(instrument.symbol) is None
