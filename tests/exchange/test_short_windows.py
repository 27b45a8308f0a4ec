"""Short delivery windows: listing by the minute (operator command and the scheduled
job), symbols, deadlines that scale with the window, and a whole cycle of a 2-minute
instrument (list, trade, gate closure, reports, confirmation and a dispute,
settlement, payouts) with time driven through the services' `now`."""

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from exchange.models import Instrument
from exchange.reconcile import reconcile
from exchange.services import instruments as lifecycle
from settlement import services as delivery
from settlement.models import Account, Obligation
from tests.apiclient import client_for
from tests.exchange.conftest import SHANGHAI, make_buyer, make_seller, tomorrow
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db


def listed(*args) -> Instrument:
    out = StringIO()
    call_command("create_instrument", "--profile", "train", *args, stdout=out)
    return Instrument.objects.get(symbol=out.getvalue().splitlines()[-1])


def test_create_instrument_minutes_scales_the_deadlines_with_a_floor():
    """A 10-minute window reports within 50 s of its end and confirms within 10
    minutes after that (a day's 2 h and 24 h, scaled); a 1-minute window gets the
    floors (30 s and 60 s)."""
    start = tomorrow() + timedelta(hours=10, minutes=30)
    ten = listed("--delivery-start", start.isoformat(), "--minutes", "10")
    assert ten.symbol == f"TRAIN-{start:%Y%m%d}-M1030-10"
    assert ten.delivery_end - ten.delivery_start == timedelta(minutes=10)
    assert ten.report_deadline == timedelta(seconds=50)
    assert ten.confirm_grace == timedelta(minutes=10)
    assert ten.confirm_deadline_at == ten.delivery_end + timedelta(seconds=650)
    one = listed("--delivery-start", start.isoformat(), "--minutes", "1")
    assert (one.report_deadline, one.confirm_grace) == (
        timedelta(seconds=30),
        timedelta(seconds=60),
    )


def test_day_and_longer_windows_keep_the_default_deadlines():
    day = listed("--delivery-start", tomorrow().isoformat())
    assert day.symbol == f"TRAIN-{tomorrow():%Y%m%d}"
    assert (day.report_deadline, day.confirm_grace) == (
        timedelta(hours=2),
        timedelta(hours=24),
    )
    week = listed("--delivery-start", tomorrow().isoformat(), "--hours", "168")
    assert week.symbol == f"TRAIN-{tomorrow():%Y%m%d}-M0000-10080"
    assert week.report_deadline == timedelta(hours=2)


def test_symbols_of_special_windows_are_unique_per_start_and_length():
    """Off the minute the start keeps its seconds; the same window twice is refused
    with the symbol named."""
    start = tomorrow() + timedelta(hours=9, seconds=30)
    inst = listed("--delivery-start", start.isoformat(), "--minutes", "5")
    assert inst.symbol == f"TRAIN-{start:%Y%m%d}-M090030-5"
    with pytest.raises(Exception, match=f"Symbol {inst.symbol} is taken"):
        listed("--delivery-start", start.isoformat(), "--minutes", "5")
    named = listed(
        "--delivery-start", start.isoformat(), "--minutes", "5", "--symbol", "DRILL-1"
    )
    assert named.symbol == "DRILL-1"


@pytest.mark.parametrize("minutes", ["0", "44641"])
def test_window_out_of_range_is_refused(minutes):
    with pytest.raises(Exception, match="from 1 minute to 744 hours"):
        listed("--delivery-start", tomorrow().isoformat(), "--minutes", minutes)


def test_scheduled_listing_by_the_minute(settings):
    """With EXCHANGE_LISTING_WINDOW_MINUTES the job lists each chosen profile's next
    windows on the clock's grid, once."""
    settings.EXCHANGE_LISTING_WINDOW_MINUTES = 2
    settings.EXCHANGE_LISTING_WINDOWS_AHEAD = 3
    settings.EXCHANGE_LISTING_PROFILES = ["train", "infer"]
    now = timezone.now()
    created = lifecycle.instruments_list(days=3, now=now)
    assert len(created) == 6
    starts = sorted({i.delivery_start for i in created})
    assert starts[0] > now >= starts[0] - timedelta(minutes=2)
    assert [b - a for a, b in itertools.pairwise(starts)] == [timedelta(minutes=2)] * 2
    assert all(s.astimezone(SHANGHAI).minute % 2 == 0 for s in starts)
    assert all(i.confirm_grace == timedelta(minutes=2) for i in created)
    assert {i.profile.code for i in created} == {"train", "infer"}
    assert lifecycle.instruments_list(days=3, now=now) == []


def test_window_starts_tile_the_shanghai_day():
    now = datetime(2026, 12, 8, 10, 31, 5, tzinfo=SHANGHAI)
    starts = lifecycle.window_starts(now, timedelta(minutes=10), 2)
    assert starts == [
        datetime(2026, 12, 8, 10, 40, tzinfo=SHANGHAI),
        datetime(2026, 12, 8, 10, 50, tzinfo=SHANGHAI),
    ]


def _order(api, body) -> dict:
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _at(when, fn, **kw):
    with transaction.atomic():
        return fn(now=when, **kw)


def test_a_two_minute_window_lists_trades_delivers_and_settles():
    """List a 2-minute window, trade it over REST, then drive time through the
    services: gate closure, reports (one short), a confirmation, a dispute the
    operator resolves, silence; each trade settles once, the network is paid,
    the instrument is settled and the ledger reconciles."""
    netop = ParticipantFactory(is_network_operator=True)
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=5)
    inst = listed(
        "--delivery-start",
        start.isoformat(),
        "--minutes",
        "2",
        "--opening-price",
        "12.00",
    )
    seller = make_seller(count=100_000)
    buyers = [make_buyer(region=r) for r in ("CITY-SH", "CITY-BJ", "CLU-GUIAN")]
    sell_api = client_for(seller)
    _order(
        sell_api,
        {"instrument": inst.symbol, "side": "sell", "price": "11.50"}
        | {"quantity": "30.0", "cluster": seller.cluster.pk},
    )
    for buyer in buyers:
        _order(
            client_for(buyer),
            {"instrument": inst.symbol, "side": "buy"}
            | {"price": "13.50", "quantity": "10.0", "client_order_id": "b-1"},
        )
    obligations = list(
        Obligation.objects.filter(instrument=inst.symbol).order_by("trade_id")
    )
    assert len(obligations) == 3

    assert lifecycle.instruments_close_run(now=start) == [inst.symbol]
    inst.refresh_from_db()
    assert inst.state == Instrument.State.CLOSED
    during = start + timedelta(minutes=1)
    full, short, silent = obligations
    _at(
        during,
        delivery.delivery_report,
        participant=seller,
        trade_id=full.trade_id,
        delivered=Decimal("10.0"),
    )
    _at(
        during,
        delivery.delivery_report,
        participant=seller,
        trade_id=short.trade_id,
        delivered=Decimal("6.0"),
    )
    _at(
        during,
        delivery.delivery_confirm,
        participant=full.buyer,
        trade_id=full.trade_id,
    )
    _at(
        during,
        delivery.delivery_dispute,
        participant=short.buyer,
        trade_id=short.trade_id,
    )
    _at(
        during,
        delivery.dispute_resolve,
        trade_id=short.trade_id,
        delivered=Decimal("7.0"),
        resolved_by=netop.user,
    )

    end = start + timedelta(minutes=2)
    assert lifecycle.instruments_settle_run(now=end) == []  # silence is not due yet
    settled = Obligation.objects.filter(status=Obligation.Status.SETTLED)
    assert set(settled.values_list("trade_id", flat=True)) == {
        full.trade_id,
        short.trade_id,
    }
    due = inst.confirm_deadline_at
    assert due == end + timedelta(seconds=30 + 120)  # floor, then 2 min scaled
    assert lifecycle.instruments_settle_run(now=due) == [inst.symbol]
    assert lifecycle.instruments_settle_run(now=due + timedelta(minutes=1)) == []

    inst.refresh_from_db()
    assert inst.state == Instrument.State.SETTLED
    silent.refresh_from_db()
    assert (silent.status, silent.delivered_quantity) == ("settled", Decimal("0.0"))
    paid = Account.objects.get(participant=seller, kind="available").balance
    assert paid > Decimal(
        1_000_000
    )  # 17.0 SCU-h delivered, less the shortfall penalties
    assert Account.objects.get(participant=netop, kind="available").balance > 0
    assert Account.objects.get(kind="escrow", instrument=inst.symbol).balance == 0
    assert [name for name, failures in reconcile() if failures] == []
