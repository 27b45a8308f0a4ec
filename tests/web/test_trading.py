"""The market pages and the order ticket: what the overview and the instrument page
show, the ticket's live preview (hold, regions that can serve a bid; bond and chips
for an ask), placing orders through the form (errors beside the field, the input
kept, the services' refusals in plain words), and a participant's orders and fills."""

import re
from decimal import Decimal

import pytest

from exchange.models import Order, Trade
from exchange.services import bands
from market.models import Region, Surcharge
from tests.exchange.conftest import make_buyer, place
from tests.web.conftest import HTMX, chinese, html, logged_in, text

pytestmark = pytest.mark.django_db


def surcharge(instrument, sell: str, buy: str) -> Surcharge:
    return Surcharge.objects.get(
        table=instrument.surcharge_table, sell_region__code=sell, buy_region__code=buy
    )


def ticket(side: str, **fields) -> dict:
    data = {
        "type": "limit",
        "time_in_force": "GTC",
        "client_order_id": "web-test-1",
        **fields,
    }
    if side == "buy":
        data.setdefault("region", "CITY-SH")
    return {f"{side}-{k}": v for k, v in data.items()}


def errors_of(body: str, field: str) -> str:
    found = re.search(rf'id="err-{field}"[^>]*>(.*?)</div>', body, re.S)
    assert found, f"no error box for {field}"
    return text(found[1])


# --- the overview ------------------------------------------------------------------


def test_overview_shows_last_change_volume_and_best_prices(
    client, instrument, buyer, seller
):
    """Last price, change against the opening price, volume, and the best bid
    (all-in) and ask (at site) of each open instrument."""
    place(seller, instrument, "sell", 100, "11.00")
    place(buyer, instrument, "buy", 40, "12.00")  # trades 40 at 11.00
    place(buyer, instrument, "buy", 10, "10.90")  # rests: below 11.00 + s
    body = html(client.get("/"))
    row = re.search(rf'<tr data-symbol="{instrument.symbol}">(.*?)</tr>', body, re.S)[1]
    cells = text(row)
    assert "11.00" in cells  # last price
    assert "-8.33%" in cells  # 11.00 against the opening 12.00
    assert "40.0" in cells  # volume
    assert "10.90" in cells  # best bid, all-in
    assert 'class="num down"' in row


def test_overview_locational_verdict_for_the_viewers_region(client, instrument, seller):
    """With an ask only in Gui'an, a buyer in Beijing sees Gui'an as the cheapest
    source, priced ask + s(Gui'an, Beijing); the region is chosen in the query."""
    place(seller, instrument, "sell", 100, "11.00")
    s = surcharge(instrument, "CLU-GUIAN", "CITY-BJ").surcharge
    body = text(html(client.get("/?region=CITY-BJ&profile=train")))
    assert (
        f"For Beijing, the cheapest compute now is in Gui'an DC cluster: "
        f"{Decimal('11.00') + s} CNY/SCU-h all-in, network surcharge {s} included."
    ) in body
    zh = text(html(chinese(client).get("/?region=CITY-BJ")))
    assert "对北京而言，目前最便宜的算力在贵安数据中心集群" in zh  # noqa: RUF001


def test_overview_defaults_to_the_participants_home_region(instrument, seller):
    beijing = make_buyer(region="CITY-BJ")
    body = html(logged_in(beijing).get("/"))
    assert '<tr data-region="CITY-BJ" class="mine">' in body


def test_overview_shows_the_index_per_profile(client, instrument, buyer, seller):
    place(seller, instrument, "sell", 100, "11.00")
    place(buyer, instrument, "buy", 40, "12.00")
    body = html(client.get("/"))
    tile = re.search(r'data-index="train">(.*?)</div>\s*</div>', body, re.S)
    assert "11.00" in text(tile[0])
    assert "40.0 SCU-h in 1 trade" in text(tile[0])


# --- the instrument page -----------------------------------------------------------


def test_instrument_book_prices_asks_all_in_for_the_chosen_region(
    client, instrument, seller
):
    place(seller, instrument, "sell", 100, "11.00")
    for region in ("CITY-SH", "CITY-BJ"):
        s = surcharge(instrument, "CLU-GUIAN", region).surcharge
        body = html(client.get(f"/markets/{instrument.symbol}/?region={region}"))
        asks = body[body.index('class="grid asks"') :]
        assert f"{Decimal('11.00') + s:.2f}" in asks.split("</tr>")[1]


def test_region_selector_swaps_the_book_and_moves_the_address(client, instrument):
    """htmx asks for the book alone; the answer tells htmx to push the page's
    address with the region, so reload and back keep it."""
    response = client.get(
        f"/markets/{instrument.symbol}/book/?region=CITY-BJ&push=1", **HTMX
    )
    body = html(response)
    assert "<html" not in body
    assert "Asks, all-in into Beijing" in body
    assert response["HX-Push-Url"] == f"/markets/{instrument.symbol}/?region=CITY-BJ"
    polled = client.get(f"/markets/{instrument.symbol}/book/?region=CITY-BJ", **HTMX)
    assert "HX-Push-Url" not in polled


def test_page_polls_trades_every_three_seconds(client, instrument, buyer, seller):
    body = html(client.get(f"/markets/{instrument.symbol}/"))
    # Every 3 s while no market stream is open (static/js/site.js, live.js).
    polling = r'hx-trigger="poll" data-poll'
    assert re.search(r'id="trades" hx-get="[^"]+/trades/" ' + polling, body)
    place(seller, instrument, "sell", 100, "11.00")
    place(buyer, instrument, "buy", 40, "12.00")
    trades = html(client.get(f"/markets/{instrument.symbol}/trades/", **HTMX))
    trade = Trade.objects.get()
    assert f'data-last-trade="{trade.pk}"' in trades
    assert "CLU-GUIAN → CITY-SH" in trades
    # The header's figures come along out of band.
    stats = re.search(
        r'<dl class="meta" id="inst-stats" hx-swap-oob="true">(.*?)</dl>', trades, re.S
    )
    assert "11.00" in text(stats[1])
    assert "40.0 SCU-h" in text(stats[1])


def test_candles_json_for_the_chart(client, instrument, buyer, seller):
    place(seller, instrument, "sell", 100, "11.00")
    place(buyer, instrument, "buy", 40, "12.00")
    place(buyer, instrument, "buy", 10, "10.90")  # rests: below 11.00 + s
    place(seller, instrument, "sell", 10, "10.00")  # trades at the resting bid
    low = Decimal("10.90") - surcharge(instrument, "CLU-GUIAN", "CITY-SH").surcharge
    data = client.get(f"/markets/{instrument.symbol}/candles.json?interval=1h").json()
    assert data["interval"] == "1h"
    [candle] = data["candles"]
    assert (candle["open"], candle["high"]) == ("11.00", "11.00")
    assert (candle["low"], candle["close"]) == (str(low), str(low))  # at site
    assert candle["volume"] == "50.0"
    assert isinstance(candle["time"], int)


def test_visitor_sees_no_ticket(client, instrument):
    body = html(client.get(f"/markets/{instrument.symbol}/"))
    assert "Log in or sign up to bid" in body
    assert "ticket-form-buy" not in body


def test_buyer_sees_a_bid_ticket_and_seller_an_ask_ticket(
    buyer_client, seller_client, instrument
):
    body = html(buyer_client.get(f"/markets/{instrument.symbol}/"))
    assert 'id="ticket-form-buy"' in body
    assert 'id="ticket-form-sell"' not in body
    body = html(seller_client.get(f"/markets/{instrument.symbol}/"))
    assert 'id="ticket-form-sell"' in body
    assert 'hx-post="/markets/' in body


# --- the ticket's preview ----------------------------------------------------------


def test_buy_preview_shows_the_hold_with_the_fee_at_the_larger_rate(
    buyer_client, instrument
):
    """33.3 x 12.34 = 410.9220; the fee part at max(5, 10) bps is 0.410922, rounded
    up to 0.4110; the hold is their sum."""
    response = buyer_client.post(
        f"/markets/{instrument.symbol}/ticket/buy/preview/",
        ticket("buy", price="12.34", quantity="33.3"),
        **HTMX,
    )
    body = html(response)
    assert '<dd data-testid="limit">12.34' in body
    assert re.search(r'data-testid="fee">0\.4110<', body)
    assert re.search(r'data-testid="hold">411\.3330<', body)
    assert 'data-testid="available">1,000,000.0000<' in body


def test_buy_preview_lists_the_regions_that_can_serve_the_limit(
    buyer_client, instrument, seller
):
    """Gui'an's ask plus its surcharge into Shanghai meets a 12.00 limit, so its
    row says it fills now; each linked region shows the highest site price that
    still fits under the limit."""
    place(seller, instrument, "sell", 100, "11.00")
    s = surcharge(instrument, "CLU-GUIAN", "CITY-SH").surcharge
    body = html(
        buyer_client.post(
            f"/markets/{instrument.symbol}/ticket/buy/preview/",
            ticket("buy", price="12.00", quantity="10"),
            **HTMX,
        )
    )
    row = re.search(r'<tr data-region="CLU-GUIAN" class="fills">(.*?)</tr>', body, re.S)
    assert row, body
    cells = text(row[1])
    assert f"{Decimal('12.00') - s:.2f}" in cells  # the most a Gui'an ask may be
    assert f"{Decimal('11.00') + s:.2f} · 100.0 now" in cells
    linked = Surcharge.objects.filter(
        table=instrument.surcharge_table, buy_region__code="CITY-SH"
    ).count()
    assert f"{linked} regions can serve this bid" in text(body)


def test_buy_preview_excludes_regions_beyond_the_latency_bound(
    buyer_client, instrument, seller
):
    place(seller, instrument, "sell", 100, "11.00")
    latency = surcharge(instrument, "CLU-GUIAN", "CITY-SH").latency_ms
    body = html(
        buyer_client.post(
            f"/markets/{instrument.symbol}/ticket/buy/preview/",
            ticket("buy", price="12.00", quantity="10", max_latency_ms="5"),
            **HTMX,
        )
    )
    row = re.search(
        r'<tr data-region="CLU-GUIAN" class="excluded">(.*?)</tr>', body, re.S
    )
    assert f"latency {latency.normalize()} ms is over 5" in text(row[1])
    assert "asks in 0 regions meet the limit now" in text(body)


def test_buy_preview_min_green_share_excludes_unknown_shares(buyer_client, instrument):
    """Unknown is not zero: a region without a published green share fails any
    minimum (every region of the fixtures has one: one is made unknown here)."""
    Region.objects.filter(code="CLU-GUIAN").update(green_share=None)
    body = html(
        buyer_client.post(
            f"/markets/{instrument.symbol}/ticket/buy/preview/",
            ticket("buy", price="12.00", quantity="10", min_green_pct="50"),
            **HTMX,
        )
    )
    assert "green-power share unknown" in body


def test_preview_puts_field_errors_beside_the_fields(buyer_client, instrument):
    """The preview answers with out-of-band error boxes: off-grid price beside the
    price, nothing beside a field the user has not typed in yet."""
    body = html(
        buyer_client.post(
            f"/markets/{instrument.symbol}/ticket/buy/preview/",
            ticket("buy", price="12.345", quantity=""),
            **HTMX,
        )
    )
    assert 'id="err-buy-price" aria-live="polite" hx-swap-oob="true"' in body
    assert "Prices go in steps of 0.01 CNY." in errors_of(body, "buy-price")
    assert errors_of(body, "buy-quantity") == ""


def test_sell_preview_shows_bond_and_chips(seller_client, seller, instrument):
    from exchange.services.capacity import factor_for

    factor = factor_for(cluster=seller.cluster, instrument=instrument)
    body = html(
        seller_client.post(
            f"/markets/{instrument.symbol}/ticket/sell/preview/",
            ticket("sell", price="11.00", quantity="100", cluster=seller.cluster.pk),
            **HTMX,
        )
    )
    assert re.search(r'data-testid="bond">110\.0000<', body)  # 10% x 100 x 11.00
    assert "Bond (10.0%)" in body
    chips = (Decimal(100) / (factor * 24)).quantize(Decimal("0.01"))
    assert f"{chips} of 64.00 free" in text(body)


def test_preview_of_a_side_the_participant_lacks_is_404(buyer_client, instrument):
    response = buyer_client.post(
        f"/markets/{instrument.symbol}/ticket/sell/preview/", {}, **HTMX
    )
    assert response.status_code == 404


# --- placing orders ----------------------------------------------------------------


def test_bid_placed_from_the_ticket_rests_in_the_book(buyer_client, buyer, instrument):
    url = f"/markets/{instrument.symbol}/ticket/buy/"
    response = buyer_client.post(url, ticket("buy", price="11.50", quantity="20"))
    assert response.status_code == 302
    order = Order.objects.get(participant=buyer)
    assert (order.price, order.quantity, order.status) == (
        Decimal("11.50"),
        Decimal("20.0"),
        "open",
    )
    page = html(buyer_client.get(response["Location"]))
    assert f"Order #{order.pk} open: 0.0 of 20.0 SCU-h filled." in page
    bids = page[page.index('class="grid bids"') :]
    assert "11.50" in bids.split("</tr>")[1]


def test_resubmitted_ticket_places_its_order_once(buyer_client, buyer, instrument):
    """The ticket carries a client order id: a double submit is a replay."""
    url = f"/markets/{instrument.symbol}/ticket/buy/"
    data = ticket("buy", price="11.50", quantity="20")
    buyer_client.post(url, data)
    response = buyer_client.post(url, data, follow=True)
    assert Order.objects.filter(participant=buyer).count() == 1
    assert "This ticket was already placed as order" in html(response)


def test_bid_with_constraints_is_placed_with_them(buyer_client, buyer, instrument):
    url = f"/markets/{instrument.symbol}/ticket/buy/"
    data = ticket(
        "buy", price="11.50", quantity="20", max_latency_ms="30", region="CITY-BJ"
    )
    data["buy-stacks"] = ["CUDA", "CANN"]
    assert buyer_client.post(url, data).status_code == 302
    order = Order.objects.get(participant=buyer)
    assert order.region.code == "CITY-BJ"
    assert order.constraints["stacks"] == ["CANN", "CUDA"]
    assert order.constraints["max_latency_ms"] == 30


def test_off_grid_price_keeps_what_was_typed(buyer_client, instrument):
    url = f"/markets/{instrument.symbol}/ticket/buy/"
    body = html(buyer_client.post(url, ticket("buy", price="11.555", quantity="7.5")))
    assert "Prices go in steps of 0.01 CNY." in errors_of(body, "buy-price")
    assert 'value="11.555"' in body
    assert 'value="7.5"' in body
    assert not Order.objects.exists()


def test_price_outside_the_band_is_refused_beside_the_price(buyer_client, instrument):
    lo, hi = bands.side_limits(instrument, "buy", Region.objects.get(code="CITY-SH"))
    url = f"/markets/{instrument.symbol}/ticket/buy/"
    body = html(buyer_client.post(url, ticket("buy", price="99.00", quantity="1")))
    assert (
        f"Outside the price band: an all-in bid must lie from {lo} to {hi}."
        in errors_of(body, "buy-price")
    )


def test_insufficient_funds_in_plain_words(instrument):
    poor = make_buyer(money=10)
    client = logged_in(poor)
    url = f"/markets/{instrument.symbol}/ticket/buy/"
    body = html(client.post(url, ticket("buy", price="12.00", quantity="100")))
    assert (
        "Not enough available funds: this order needs a hold of 1201.2000 CNY and "
        "10.0000 CNY is available."
    ) in text(body)
    assert 'value="100"' in body
    zh = html(chinese(client).post(url, ticket("buy", price="12.00", quantity="100")))
    assert "可用余额不足：此订单需要冻结 1201.2000 元" in text(zh)  # noqa: RUF001


def test_fok_that_cannot_fill_is_refused_beside_time_in_force(buyer_client, instrument):
    url = f"/markets/{instrument.symbol}/ticket/buy/"
    data = ticket("buy", price="12.00", quantity="5", time_in_force="FOK")
    body = html(buyer_client.post(url, data))
    assert "Fill or kill: the book cannot fill the whole quantity now" in errors_of(
        body, "buy-time_in_force"
    )
    assert not Order.objects.exists()


def test_market_order_must_be_ioc_or_fok(buyer_client, instrument):
    url = f"/markets/{instrument.symbol}/ticket/buy/"
    body = html(buyer_client.post(url, ticket("buy", type="market", quantity="5")))
    assert "A market order is IOC or FOK" in errors_of(body, "buy-time_in_force")


def test_ask_beyond_the_clusters_capacity_is_refused(seller_client, seller, instrument):
    url = f"/markets/{instrument.symbol}/ticket/sell/"
    data = ticket("sell", price="11.00", quantity="999999", cluster=seller.cluster.pk)
    body = html(seller_client.post(url, data))
    assert "Your cluster has 64 chips free in this window" in errors_of(
        body, "sell-quantity"
    )
    assert 'value="999999"' in body


def test_crossing_ask_from_the_ticket_trades(seller_client, seller, buyer, instrument):
    place(buyer, instrument, "buy", 40, "12.00")
    url = f"/markets/{instrument.symbol}/ticket/sell/"
    data = ticket("sell", price="11.00", quantity="40", cluster=seller.cluster.pk)
    response = seller_client.post(url, data, follow=True)
    assert "filled: 40.0 of 40.0 SCU-h filled." in html(response)
    trade = Trade.objects.get()
    s = surcharge(instrument, "CLU-GUIAN", "CITY-SH").surcharge
    assert trade.price == Decimal("12.00") - s  # the resting bid's price, at site


# --- my orders and fills -----------------------------------------------------------


def test_my_orders_cancel_and_cancel_all(buyer_client, buyer, other, instrument):
    first = place(buyer, instrument, "buy", 10, "11.00").order
    place(buyer, instrument, "buy", 10, "11.10")
    theirs = place(other, instrument, "buy", 10, "11.20").order
    body = html(buyer_client.get("/trade/orders/"))
    assert "2 open orders" in body
    assert f'data-order="{theirs.pk}"' not in body

    response = buyer_client.post(f"/trade/orders/{first.pk}/cancel/", follow=True)
    assert f"Order #{first.pk} cancelled." in html(response)
    first.refresh_from_db()
    assert first.status == "cancelled"

    assert buyer_client.post(f"/trade/orders/{theirs.pk}/cancel/").status_code == 404
    response = buyer_client.post("/trade/orders/cancel-all/", follow=True)
    assert "1 open order cancelled." in html(response)
    assert not Order.objects.filter(participant=buyer, status="open").exists()
    theirs.refresh_from_db()
    assert theirs.status == "open"


def test_my_orders_filters_open_and_all(buyer_client, buyer, instrument):
    order = place(buyer, instrument, "buy", 10, "11.00").order
    buyer_client.post(f"/trade/orders/{order.pk}/cancel/")
    assert f'data-order="{order.pk}"' not in html(buyer_client.get("/trade/orders/"))
    assert f'data-order="{order.pk}"' in html(
        buyer_client.get("/trade/orders/?show=all")
    )


def test_my_fills_show_each_side_its_own_fee(
    buyer_client, seller_client, buyer, seller, instrument
):
    place(seller, instrument, "sell", 100, "11.00")
    place(buyer, instrument, "buy", 40, "12.00")
    trade = Trade.objects.get()
    bought = text(html(buyer_client.get("/trade/fills/")))
    sold = text(html(seller_client.get("/trade/fills/")))
    assert f"Bought 11.00 {trade.surcharge} {trade.all_in_price}" in bought
    assert f"{trade.buyer_fee:.4f} taker" in bought
    assert f"{trade.seller_fee:.4f} maker" in sold


def test_capacity_shows_committed_and_free_chips(seller_client, seller, instrument):
    from exchange.services.capacity import factor_for

    factor = factor_for(cluster=seller.cluster, instrument=instrument)
    place(seller, instrument, "sell", 480, "11.00")
    committed = Decimal(480) / (factor * 24)
    row = re.search(
        rf'<tr data-instrument="{instrument.symbol}">(.*?)</tr>',
        html(seller_client.get("/trade/capacity/")),
        re.S,
    )[1]
    cells = text(row)
    assert f"{committed:.2f}" in cells
    assert f"{Decimal(64) - committed:.2f}" in cells
