"""End to end over HTTP: six ZI-C buyers and six ZI-C sellers (Gode and Sunder) with
known values and costs trade one unit each through the REST API of a live server.
No fill may lie outside the two sides' limits, the ledger must reconcile, and the
market must be allocatively efficient (realized / maximum surplus >= 90%)."""

import threading
from decimal import Decimal

import httpx
import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection

from exchange.bots import zic
from exchange.models import Order, Trade
from tests.apiclient import api_key
from tests.exchange.conftest import make_buyer, make_instrument, make_seller

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

UNIT = Decimal("10.0")
# Five intramarginal pairs and an extramarginal buyer (17) and seller (19) near the
# margin, as in Gode and Sunder's markets. The competitive surplus is 70 x UNIT; a
# simulation of these bots gives 98% on average and never below 96% in 4000 runs
# (an extramarginal trade displaces a pair that can still trade with the other).
VALUES = ["30.00", "28.00", "26.00", "24.00", "22.00", "17.00"]
COSTS = ["8.00", "10.00", "12.00", "14.00", "16.00", "19.00"]


def max_surplus(values, costs) -> Decimal:
    """The competitive equilibrium surplus: highest values meet lowest costs."""
    pairs = zip(sorted(values, reverse=True), sorted(costs), strict=True)
    return sum((v - c for v, c in pairs if v > c), Decimal(0)) * UNIT


@pytest.fixture
def serial_http(monkeypatch):
    """The live server shares one in-memory SQLite connection between its request
    threads, so on SQLite the bots' requests go one at a time."""
    if connection.vendor != "sqlite":
        return
    lock = threading.Lock()
    send = httpx.Client.send

    def locked_send(self, *args, **kwargs):
        with lock:
            return send(self, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", locked_send)


def run_bots(argvs: list[list[str]]) -> None:
    errors = []

    def run(argv):
        try:
            zic.main(argv)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(a,)) for a in argvs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=150)
    assert not errors, errors


def test_zic_traders_are_efficient_and_the_ledger_reconciles(
    live_server, catalogue, serial_http
):
    instrument = make_instrument(opening=None, band=None)
    common = ["--url", live_server.url, "--symbol", instrument.symbol]
    common += ["--quantity", str(UNIT), "--interval", "0.05", "--max-seconds", "30"]
    common += ["--min-price", "1.00", "--max-price", "40.00"]
    limits, argvs = {}, []
    traders = [(make_buyer, "buy", v) for v in VALUES]
    traders += [(make_seller, "sell", c) for c in COSTS]
    for n, (make, side, limit) in enumerate(traders):
        trader = (
            make("CITY-SH", money=100_000)
            if side == "buy"
            else make("CITY-SH", "nvidia-a100-80gb-sxm", money=100_000)
        )
        limits[trader.pk] = Decimal(limit)
        key = api_key(trader.user)
        argvs.append([*common, f"--token={key}", "--side", side, "--limit", limit])
        argvs[-1] += ["--seed", str(n)]
    run_bots(argvs)

    trades = list(Trade.objects.filter(instrument=instrument))
    assert trades
    for trade in trades:
        assert trade.price >= limits[trade.seller_id], trade
        assert trade.all_in_price <= limits[trade.buyer_id], trade
    realized = sum(
        ((limits[t.buyer_id] - limits[t.seller_id]) * t.quantity for t in trades),
        Decimal(0),
    )
    maximum = max_surplus([Decimal(v) for v in VALUES], [Decimal(c) for c in COSTS])
    efficiency = realized / maximum
    print(f"ZI-C allocative efficiency {efficiency:.1%} over {len(trades)} trades")
    assert efficiency >= Decimal("0.9"), (efficiency, trades)
    assert not Order.objects.filter(status__in=Order.OPEN_STATUSES).exists()
    call_command("reconcile", stdout=open("/dev/null", "w"))  # noqa: SIM115
