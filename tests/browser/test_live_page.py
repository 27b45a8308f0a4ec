"""The instrument page live: with a streams process beside the web server, a trade
appears on an open page without a reload in under 2 s, from the market stream: an
EventSource is open and the page makes no polling request meanwhile; a logged-in
participant's "My orders" follows its orders from the private stream."""

import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client, override_settings
from playwright.sync_api import expect

from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.exchange.streams.live import streams_server

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.slow]
POLLED = ("/book/", "/trades/", "/candles.json")


def test_a_trade_appears_on_an_open_page_from_the_stream(page, site, artifacts):
    instrument = make_instrument(band=None)
    buyer = make_buyer("CITY-SH")
    seller = make_seller("CITY-SH", "nvidia-a100-80gb-sxm")
    place(seller, instrument, "sell", "4.0", "11.00")
    with (
        streams_server(redis=True) as streams,
        override_settings(EXCHANGE_STREAMS_URL=streams),
    ):
        page.goto(f"{site}/markets/{instrument.symbol}/?region=CITY-SH")
        expect(page.locator("body")).to_have_attribute("data-stream", "live")
        asks = page.locator("#book table.asks tbody tr[data-region]")
        expect(asks).to_have_count(1)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))

        started = time.monotonic()
        place(buyer, instrument, "buy", "1.5", "11.20")
        row = page.locator("#trades tbody tr[data-trade]")
        expect(row).to_have_count(1, timeout=2000)
        took = time.monotonic() - started
        expect(row).to_contain_text("11.00")
        expect(page.get_by_test_id("last-price")).to_have_text("11.00")
        expect(asks.first).to_contain_text("2.5")  # 4.0 less the 1.5 traded
        page.wait_for_timeout(3500)  # longer than the polling interval
        page.screenshot(path=artifacts / "live-trade-en.png")

    assert took < 2, took
    polled = [url for url in requests if any(p in url for p in POLLED)]
    assert not polled, polled
    entries = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert any("/api/v1/stream/market/" in name for name in entries)


def test_my_orders_follow_the_private_stream(page, site, artifacts):
    """A logged-in buyer's page: when another participant fills part of its resting
    order, "My orders" shows the new filled and resting quantities without a
    reload, from the private stream (the page does not poll meanwhile)."""
    instrument = make_instrument(band=None)
    buyer = make_buyer("CITY-SH")
    seller = make_seller("CITY-SH", "nvidia-a100-80gb-sxm")
    order = place(buyer, instrument, "buy", "4.0", "11.00").order
    client = Client()
    client.force_login(buyer.user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": site}]
    )
    host = urlsplit(site).hostname  # the session's cookie goes to the same host
    with streams_server(redis=True) as streams:
        streams = streams.replace("127.0.0.1", host)
        with override_settings(EXCHANGE_STREAMS_URL=streams):
            page.goto(f"{site}/markets/{instrument.symbol}/?region=CITY-SH")
            body = page.locator("body")
            expect(body).to_have_attribute("data-stream", "live")
            expect(body).to_have_attribute("data-private-stream", "live")
            row = page.locator(f"#my-orders tr[data-order='{order.pk}']")
            filled, resting = row.locator("td.num").nth(3), row.locator("td.num").nth(4)
            expect(filled).to_have_text("0.0")
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))

            place(seller, instrument, "sell", "1.5", "11.00")
            expect(filled).to_have_text("1.5", timeout=5000)
            expect(resting).to_have_text("2.5")
            page.wait_for_timeout(3500)  # longer than the polling interval
            page.screenshot(path=artifacts / "live-my-orders-en.png")

    assert not [url for url in requests if "/book/" in url], requests
    fetched = [url for url in requests if "/trades/" in url]
    assert len(fetched) == 1, requests  # once, when the stream told of the fill
