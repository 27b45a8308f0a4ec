"""The daily index per profile: the VWAP of a Shanghai day's trades across the
profile's listed products, trades beyond max(3 MAD, 5% of the median) from the
median trimmed; published for finished days by a beat task (an idempotent upsert),
provisional for today. And the chain-linked index beside it."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from exchange.marketdata import tasks
from exchange.marketdata.bars import SHANGHAI
from exchange.marketdata.index import (
    chain_series,
    chained,
    index_publish,
    index_series,
    trimmed,
)
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


def test_trimming_drops_a_far_outlier_even_when_the_mad_is_zero():
    """Most trades at 10.0 (MAD 0): the band is 5% of the median, so 25.0 goes."""
    rows = [(Decimal(p), Decimal(1)) for p in ("10.0", "10.0", "10.0", "25.0")]
    assert trimmed(rows) == rows[:3]


def test_trimming_is_stable_when_most_trades_share_one_price():
    """62% at 10.00 and 38% at 10.20: with a MAD of zero, and with one more trade
    that makes the MAD 0.01 (which under 3 MAD alone would trim every 10.20), the
    same trades are kept: all of them, 2% from the median, inside the 5% floor."""
    rows = [(Decimal("10.00"), Decimal(1))] * 62 + [(Decimal("10.20"), Decimal(1))] * 38
    assert trimmed(rows) == rows
    nudged = [*rows, (Decimal("10.01"), Decimal(1)), (Decimal("10.01"), Decimal(1))]
    nudged = nudged[:60] + nudged[62:]  # the MAD is now one cent
    assert len(trimmed(nudged)) == len(nudged)


def test_index_counts_listed_products_not_specials(train):
    """An operator's special instrument (a test, a drill) leaves the index alone."""
    Market().trades([(60, "12.00", "1.0")], start=midnight(1))
    Market(product="special").trades([(120, "50.00", "9.0")], start=midnight(1))
    [day] = index_series(profile=train, days=7)
    assert (day.index, day.trades, day.volume) == (
        Decimal("12.0000"),
        1,
        Decimal("1.0"),
    )


def test_chain_holds_the_mix_fixed_within_each_link():
    """Chip A at 10.00 and chip B at 5.00 both days; the mix shifts from 10/10 to
    2/18, so the VWAP falls from 7.50 to 5.50, while the chain stays at 100. On day
    3 A rises to 11.00: the link weighs day 2's mix, (2 x 11 + 18 x 5) / (2 x 10 +
    18 x 5) = 112 / 110."""
    a, b = ("A", "day"), ("B", "day")
    d = [midnight(n).date() for n in (3, 2, 1)]
    days = {
        d[0]: {a: (Decimal(10), Decimal(10)), b: (Decimal(5), Decimal(10))},
        d[1]: {a: (Decimal(10), Decimal(2)), b: (Decimal(5), Decimal(18))},
        d[2]: {a: (Decimal(11), Decimal(2)), b: (Decimal(5), Decimal(18))},
    }
    values = [c.value for c in chained(days)]
    expected = (Decimal(100) * 112 / 110).quantize(Decimal("0.0001"))
    assert values == [Decimal("100.0000"), Decimal("100.0000"), expected]


def test_chain_carries_a_stale_cell_three_days_then_drops_it():
    """A cell that stops trading is priced at its last trade for 3 days, then left
    out of the link: a gap of 4 days drops it."""
    a, b = ("A", "day"), ("B", "day")
    d0 = midnight(10).date()
    days = {
        d0: {a: (Decimal(10), Decimal(1)), b: (Decimal(10), Decimal(1))},
        d0 + timedelta(days=2): {b: (Decimal(12), Decimal(1))},
    }
    [_first, second] = chained(days)
    assert (second.value, second.carried) == (Decimal("110.0000"), 1)
    days = {
        d0: {a: (Decimal(10), Decimal(1)), b: (Decimal(10), Decimal(1))},
        d0 + timedelta(days=4): {b: (Decimal(12), Decimal(1))},
    }
    [_first, second] = chained(days)
    assert (second.value, second.carried) == (Decimal("120.0000"), 0)


def test_chain_series_reads_cells_by_chip_and_product(train):
    """Two chips on two days from the trades themselves: a shift toward the cheap
    chip moves the VWAP, not the chain."""
    dear, cheap = Market(chip="nvidia-h100-sxm-80gb"), Market()
    dear.trades([(60, "20.00", "5.0")], start=midnight(2))
    cheap.trades([(60, "10.00", "5.0")], start=midnight(2))
    dear.trades([(60, "20.00", "1.0")], start=midnight(1))
    cheap.trades([(60, "10.00", "9.0")], start=midnight(1))
    chain = chain_series(profile=train, days=7)
    assert [c.value for c in chain] == [Decimal("100.0000")] * 2
    assert [c.cells for c in chain] == [2, 2]


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
