"""The published market data on the web, in English and Chinese: VWAP on the
overview and the instrument page, the locational prices with their map, each
profile's index page (method, history, chart data), and carbon on the fills page and
the balances page."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from exchange.marketdata.locational import PRICE_COLOURS
from tests.exchange.conftest import make_buyer, make_seller, place
from tests.marketdata.conftest import Market
from tests.web.conftest import chinese, html, logged_in, text

pytestmark = pytest.mark.django_db


def trade(instrument, quantity="10.0", price="12.00", region="CLU-GUIAN"):
    seller = make_seller(region, "nvidia-a100-80gb-sxm")
    buyer = make_buyer("CITY-SH")
    place(seller, instrument, "sell", quantity, price)
    place(buyer, instrument, "buy", quantity, "14.00")
    return buyer


def test_overview_shows_vwap_index_link_and_price_map(client, instrument):
    trade(instrument, "3.0", "12.00")
    trade(instrument, "1.0", "13.00")
    make_seller("CLU-WUHU", "nvidia-a100-80gb-sxm")
    body = html(client.get("/"))
    row = re.search(rf'<tr data-symbol="{instrument.symbol}">.*?</tr>', body, re.S)
    assert "12.25" in text(row.group(0))  # VWAP (36 + 13) / 4
    assert 'href="/index/train/"' in body
    assert 'class="card map-card locational-map"' in body
    # Nothing rests after the trades: every region is grey ("no ask reaches it").
    assert 'data-region="CITY-SH" data-colour="#adb5bd"' in body
    zh = html(chinese(client).get("/"))
    assert "成交量加权均价" in zh
    assert "没有卖单可送达" in zh


def test_map_colours_regions_by_locational_price(client, instrument):
    """Cheapest region green, dearest red; the colour follows the price."""
    place(
        make_seller("CLU-GUIAN", "nvidia-a100-80gb-sxm"), instrument, "sell", 5, "10.00"
    )
    place(
        make_seller("CITY-SH", "nvidia-a100-80gb-sxm"), instrument, "sell", 5, "14.00"
    )
    body = html(client.get("/?region=CITY-SH"))
    colours = dict(
        re.findall(r'data-region="([A-Z-]+)" data-colour="(#[0-9a-f]+)"', body)
    )
    assert colours["CLU-GUIAN"] == PRICE_COLOURS[0]
    assert PRICE_COLOURS[-1] in colours.values()
    assert set(colours.values()) <= {*PRICE_COLOURS, "#adb5bd"}


def test_instrument_page_shows_vwap(client, instrument):
    trade(instrument, "3.0", "12.00")
    trade(instrument, "1.0", "13.00")
    body = html(client.get(f"/markets/{instrument.symbol}/"))
    assert re.search(r'data-testid="vwap"[^>]*>12\.25<', body)


def test_index_page_documents_the_method_in_both_languages(client):
    """History as a table and chart data, newest first in the table, oldest first
    for the chart; the method in English and Chinese."""
    market = Market()
    yesterday = market.instrument.created_at - timedelta(days=1)
    market.trades([(0, "12.00", "1.0")], start=yesterday)
    market.trades([(0, "13.00", "1.0")], start=market.instrument.created_at)
    body = html(client.get("/index/train/"))
    assert "median absolute deviation" in body
    assert "Silicon Data" in body
    dates = re.findall(r'<tr data-date="([0-9-]+)">', body)
    assert dates == sorted(dates, reverse=True)
    assert len(dates) == 2
    chart = json.loads(re.search(r'id="index-data"[^>]*>(.*?)</script>', body).group(1))
    assert [Decimal(p["value"]) for p in chart] == [
        Decimal("12.0000"),
        Decimal("13.0000"),
    ]
    zh = html(chinese(client).get("/index/train/"))
    assert "编制方法" in zh
    assert "绝对偏差的中位数（MAD）" in zh  # noqa: RUF001
    assert client.get("/index/nope/").status_code == 404


def test_index_page_without_trades_says_so(client):
    body = html(client.get("/index/hpc/"))
    assert "No trade of this profile yet" in body


def test_fills_page_shows_carbon_per_fill_and_the_buyers_total(instrument):
    buyer = trade(instrument, "10.0", "12.00")
    client = logged_in(buyer)
    body = html(client.get("/trade/fills/"))
    assert re.search(r"<td class=\"num\" data-carbon>2\.728</td>", body)
    assert "Carbon of your purchases" in body
    zh = html(chinese(client).get("/trade/fills/"))
    assert "所购算力的碳排放" in zh


def test_balances_page_has_the_buyers_carbon_tile(instrument):
    buyer = trade(instrument, "10.0", "12.00")
    body = html(logged_in(buyer).get("/funds/"))
    tile = re.search(
        r'<div class="tile" data-carbon="bought">.*?</div>\s*</div>', body, re.S
    )
    assert "2.7 kgCO₂" in text(tile.group(0))
    seller_only = make_seller()
    assert 'data-carbon="bought"' not in html(logged_in(seller_only).get("/funds/"))
