"""The forward curve: one row per listed day and block of a profile, in delivery
order (a day before the blocks that start with it; operators' specials left out),
each with its point and the basis DESIGN.md fixes: the settlement price once
closed, else the last price if it traded in the last 24 hours, else the book's mid
if both sides rest, else none."""

from datetime import timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from exchange.marketdata.forward import forward_curve
from exchange.models import Trade
from exchange.services import instruments as lifecycle
from market.models import WorkloadProfile
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.exchange.test_products import day_of, listed

pytestmark = pytest.mark.django_db


@pytest.fixture
def curve_market():
    """Tomorrow's train day and blocks: the day traded 2.0 at 10.00 and 2.0 at
    10.10 and closed; 00-04 closed without a trade; 04-08 traded at 10.50 just now;
    08-12 has a bid of 9.00 and an ask of 11.00 resting; the rest are empty. A
    special of 2 hours from 01:00 traded too."""
    got, day = listed(), day_of(1)
    name = f"TRAIN-{day:%Y%m%d}"
    seller = make_seller("CLU-GUIAN", "nvidia-a100-80gb-sxm", count=1000)
    buyer = make_buyer("CLU-GUIAN")
    place(seller, got[name], "sell", "2.0", "10.00")
    place(seller, got[name], "sell", "2.0", "10.10")
    place(buyer, got[name], "buy", "4.0", "10.10")
    place(seller, got[f"{name}-B0408"], "sell", "1.0", "10.50")
    place(buyer, got[f"{name}-B0408"], "buy", "1.0", "10.50")
    place(seller, got[f"{name}-B0812"], "sell", "1.0", "11.00")
    place(buyer, got[f"{name}-B0812"], "buy", "1.0", "9.00")
    special = make_instrument(start=day + timedelta(hours=1), hours=2)
    place(seller, special, "sell", "1.0", "12.00")
    place(buyer, special, "buy", "1.0", "12.00")
    lifecycle.instruments_close_run(now=day)
    return name


def test_curve_lists_days_and_blocks_in_delivery_order_with_their_basis(
    curve_market,
):
    name = curve_market
    rows = forward_curve(profile=WorkloadProfile.objects.get(code="train"))
    assert [r.symbol for r in rows] == [name] + [
        f"{name}-B{h:02d}{h + 4:02d}" for h in range(0, 24, 4)
    ]
    points = {r.symbol: (r.price, r.basis) for r in rows}
    # VWAP (20.00 + 20.20) / 4 = 10.05: the settlement price, fixed at the gate.
    assert points[name] == (Decimal("10.05"), "settlement")
    assert points[f"{name}-B0004"] == (None, "none")  # closed, never traded
    assert points[f"{name}-B0408"] == (Decimal("10.50"), "last")
    assert points[f"{name}-B0812"] == (Decimal("10.00"), "mid")
    assert points[f"{name}-B1216"] == (None, "none")
    volumes = {r.symbol: r.volume for r in rows}
    assert (volumes[name], volumes[f"{name}-B0408"]) == (Decimal("4.0"), Decimal("1.0"))


def test_a_last_price_older_than_a_day_is_no_longer_the_point(curve_market):
    """A second past 24 hours after 04-08's trade, the trade is stale and nothing
    rests there: no point; the resting book of 08-12 still gives its mid. (Counted
    from the trade itself, so the block is still listed whatever the clock says.)"""
    name = curve_market
    traded_at = Trade.objects.get(instrument__symbol=f"{name}-B0408").executed_at
    later = traded_at + timedelta(hours=24, seconds=1)
    rows = forward_curve(profile=WorkloadProfile.objects.get(code="train"), now=later)
    points = {r.symbol: (r.price, r.basis) for r in rows}
    assert points[f"{name}-B0408"] == (None, "none")
    assert points[f"{name}-B0812"] == (Decimal("10.00"), "mid")


def test_forward_api_serves_the_curve(curve_market):
    name = curve_market
    response = APIClient().get("/api/v1/forward/", {"profile": "train"})
    assert response.status_code == 200
    body = response.json()
    assert body["profile"] == "train"
    first, block = body["results"][0], body["results"][2]
    assert set(first) == {
        "symbol",
        "product",
        "block",
        "delivery_start",
        "delivery_end",
        "last_price",
        "mid",
        "settlement_price",
        "volume",
        "price",
        "basis",
    }
    assert (first["symbol"], first["product"], first["block"]) == (name, "day", None)
    assert (first["settlement_price"], first["price"], first["basis"]) == (
        "10.05",
        "10.0500",
        "settlement",
    )
    assert (block["block"], block["basis"]) == ("04-08", "last")
    assert block["price"] == "10.5000"
    unknown = APIClient().get("/api/v1/forward/", {"profile": "nope"})
    assert unknown.status_code == 400
