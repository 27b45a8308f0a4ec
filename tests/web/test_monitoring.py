"""The national monitoring view: a public summary in the site's navigation, and an
operators' view in the admin (staff only) that also names the buyers and shows the
machinery's health. Per region and hub: capacity listed, sold, delivered,
utilization, average price and carbon; and the east-west flow table."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from exchange.monitoring.regions import national_view
from settlement.services import delivery_report
from tests.exchange.conftest import make_buyer, make_seller, place
from tests.web.conftest import chinese, html, logged_in, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def flows(instrument):
    """Shanghai buys 10.0 from Gui'an (west) and 4.0 from Wuhu (east); Beijing buys
    6.0 from Gui'an. Gui'an lists 30.0, Wuhu 4.0. Gui'an reports 8.0 delivered."""
    guian = make_seller("CLU-GUIAN", "nvidia-a100-80gb-sxm")
    wuhu = make_seller("CLU-WUHU", "nvidia-a100-80gb-sxm")
    shanghai, beijing = make_buyer("CITY-SH"), make_buyer("CITY-BJ")
    place(guian, instrument, "sell", "30.0", "10.00")
    place(wuhu, instrument, "sell", "4.0", "11.00")
    west, east = {"regions": ["CLU-GUIAN"]}, {"regions": ["CLU-WUHU"]}
    [first] = place(
        shanghai, instrument, "buy", "10.0", "12.00", constraints=west
    ).fills
    place(beijing, instrument, "buy", "6.0", "12.00", constraints=west)
    place(shanghai, instrument, "buy", "4.0", "12.00", constraints=east)
    delivery_report(
        participant=guian,
        trade_id=first.pk,
        delivered=Decimal("8.0"),
        now=instrument.delivery_start + timedelta(hours=1),
    )
    return instrument


def test_national_view_adds_up(flows):
    view = national_view(days=30)
    regions = {row.subject.code: row.tally for row in view.regions}
    guian, wuhu = regions["CLU-GUIAN"], regions["CLU-WUHU"]
    assert (guian.listed, guian.sold, guian.delivered) == (
        Decimal("30.0"),
        Decimal("16.0"),
        Decimal("8.0"),
    )
    assert guian.utilization_pct == Decimal("53.3")
    assert guian.average_price == Decimal("10.00")
    assert (wuhu.sold, wuhu.average_price) == (Decimal("4.0"), Decimal("11.00"))
    assert regions["CITY-SH"].bought == Decimal("14.0")
    # Carbon where it ran: A100 in Gui'an, 0.272784 kg/SCU-h: 8.0 delivered + 6.0
    # bought (not reported) = 2.182 + 1.637.
    assert guian.carbon_kg == Decimal("2.182") + Decimal("1.637")
    assert view.flows.cells[
        (regions_pk(view, "CITY-SH"), regions_pk(view, "CLU-WUHU"))
    ] == (Decimal("4.0"))
    assert view.flows.total == Decimal("20.0")
    assert view.flows.east_to_west == Decimal("16.0")
    assert view.flows.east_to_west_pct == Decimal("80.0")
    hubs = {row.subject.code: row.tally for row in view.hubs}
    assert hubs["guizhou"].sold == Decimal("16.0")
    assert view.total.sold == Decimal("20.0")


def regions_pk(view, code):
    return next(row.subject.pk for row in view.regions if row.subject.code == code)


def test_public_summary_in_both_languages_and_in_the_nav(client, flows):
    body = html(client.get("/monitoring/"))
    assert 'href="/monitoring/"' in body  # the site's navigation
    assert "National compute monitoring" in body
    row = re.search(r'<tr data-region="CLU-GUIAN">.*?</tr>', body, re.S).group(0)
    assert text(row).split()[-8:] == [
        "30.0",
        "16.0",
        "0.0",
        "8.0",
        "53.3%",
        "10.00",
        "—",
        "3.8",
    ]
    flow = re.search(r'<tr data-buy="CITY-SH">.*?</tr>', body, re.S).group(0)
    assert [c for c in text(flow).split() if c[0].isdigit()] == ["10.0", "4.0", "14.0"]
    assert "Participant" not in body  # buyers are not named in public
    zh = html(chinese(client).get("/monitoring/"))
    assert "全国算力监测" in zh
    assert "谁在哪里买：区域间算力流向" in zh  # noqa: RUF001
    assert 'aria-current="page">监测</a>' in zh


def test_public_summary_scope_filters(client, flows):
    body = html(client.get("/monitoring/", {"profile": "infer", "days": "7"}))
    assert "No trade in these delivery windows yet." in body
    assert html(client.get("/monitoring/", {"days": "bogus"}))  # falls back


def test_operator_view_names_buyers_and_shows_health(staff_client, flows):
    index = html(staff_client.get("/admin/"))
    assert "/admin/monitoring/" in index
    body = html(staff_client.get("/admin/monitoring/"))
    assert 'data-health="settlement-lag"' in body
    assert re.search(r'data-health="unfolded">\d+<', body)
    buyers = re.findall(r'<tr data-buyer="\d+"><td>([^<]+)</td>', body)
    assert len(buyers) == 2
    zh = html(chinese(staff_client).get("/admin/monitoring/"))
    assert "系统运行" in zh


def test_operator_view_is_for_staff_only(client, buyer):
    assert client.get("/admin/monitoring/").status_code == 302
    response = logged_in(buyer).get("/admin/monitoring/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
