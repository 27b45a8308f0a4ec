"""The daily index per profile: the VWAP of a Shanghai day's trades across the
profile's instruments, trades beyond 3 MAD of the median trimmed; published for
finished days by a beat task (an idempotent upsert), provisional for today."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from exchange.marketdata import tasks
from exchange.marketdata.bars import SHANGHAI
from exchange.marketdata.index import index_publish, index_series, trimmed
from exchange.models import IndexValue
from market.models import WorkloadProfile
from tests.marketdata.conftest import Market

pytestmark = pytest.mark.django_db


def midnight(days_ago: int) -> datetime:
    today = timezone.localtime(timezone.now(), SHANGHAI).date()
    return datetime.combine(today - timedelta(days=days_ago), time(0), SHANGHAI)


@pytest.fixture
def train():
    return WorkloadProfile.objects.get(code="train")


def test_trimming_drops_prices_beyond_three_mad():
    """Median 10.0, MAD 0.1: 30.0 lies 200 MADs away; 10.3 lies exactly 3 away."""
    prices = ("10.0", "10.1", "9.9", "10.2", "9.8", "10.3", "30.0")
    kept = trimmed([(Decimal(p), Decimal(1)) for p in prices])
    assert sorted(str(p) for p, _q in kept) == sorted(prices[:-1])


def test_trimming_keeps_everything_when_the_mad_is_zero():
    rows = [(Decimal(p), Decimal(1)) for p in ("10.0", "10.0", "10.0", "25.0")]
    assert trimmed(rows) == rows


def test_publish_yesterday_is_an_idempotent_upsert(train):
    """Two instruments of the profile on one day make one index; the outlier is
    trimmed; publishing again rewrites the same row."""
    a, b = Market(), Market()
    a.trades([(3600, "12.00", "3.0"), (7200, "12.20", "1.0")], start=midnight(1))
    b.trades([(5400, "12.10", "2.0"), (9000, "40.00", "5.0")], start=midnight(1))
    a.trades([(60, "99.00", "1.0")], start=midnight(0))  # today: not yesterday's
    [value] = index_publish(day=midnight(1).date())
    expected = (Decimal("36.00") + Decimal("12.20") + Decimal("24.20")) / 6
    assert value.index == expected.quantize(Decimal("0.0001"))
    assert (value.trades, value.trimmed, value.volume) == (4, 1, Decimal("6.0"))
    index_publish(day=midnight(1).date())
    assert IndexValue.objects.filter(profile=train).count() == 1


def test_series_is_published_days_then_today_provisional(train):
    market = Market()
    market.trades([(60, "12.00", "1.0")], start=midnight(2))
    market.trades([(60, "13.00", "1.0")], start=midnight(1))
    market.trades([(60, "14.00", "1.0")], start=midnight(0))
    assert tasks.index_publish.delay().get() == 2  # the last three finished days
    series = index_series(profile=train, days=30)
    assert [(d.index, d.provisional) for d in series] == [
        (Decimal("14.0000"), True),
        (Decimal("13.0000"), False),
        (Decimal("12.0000"), False),
    ]
    body = APIClient().get("/api/v1/index/", {"profile": "train"}).json()
    assert [(r["index"], r["provisional"]) for r in body["results"]] == [
        ("14.0000", True),
        ("13.0000", False),
        ("12.0000", False),
    ]
    assert body["results"][1]["date"] == str(midnight(1).date())


def test_a_finished_day_not_published_yet_is_provisional(train):
    """Just after midnight, before the task ran, yesterday still shows."""
    Market().trades([(60, "12.00", "1.0")], start=midnight(1))
    [day] = index_series(profile=train, days=7)
    assert (day.index, day.provisional) == (Decimal("12.0000"), True)


def test_published_value_is_served_from_the_table(train):
    """The API answers a published day from IndexValue, not from the trades."""
    Market().trades([(60, "12.00", "1.0")], start=midnight(1))
    index_publish(day=midnight(1).date())
    IndexValue.objects.filter(profile=train).update(index=Decimal("11.1111"))
    [day] = index_series(profile=train, days=7)
    assert day.index == Decimal("11.1111")
