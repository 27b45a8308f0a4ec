"""The public catalogue pages: what a visitor sees in English and Chinese, the markers
on estimated and unverified figures, the move-west form (errors beside the field, the
htmx partial), and a bounded number of queries per page."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from market.models import Region
from market.pages import ROLE_COLOURS
from market.selectors import regions_suspended_forget

pytestmark = pytest.mark.django_db

CHIPS = "/catalogue/chips/"
REGIONS = "/catalogue/regions/"
MOVE_WEST = "/catalogue/move-west/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def html(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def chinese(client):
    client.cookies["django_language"] = "zh-hans"
    return client


def factor_cell(body: str, chip: str, profile: str) -> str:
    row = re.search(rf'<tr data-chip="{re.escape(chip)}">(.*?)</tr>', body, re.S)
    assert row, f"no row for {chip}"
    cell = re.search(rf'<td[^>]*data-profile="{profile}"[^>]*>(.*?)</td>', row[1], re.S)
    assert cell, f"no {profile} cell for {chip}"
    return cell[1]


def result_regions(body: str) -> list[str]:
    table = body[body.index('class="grid mw-table"') :]
    return re.findall(r'<tr data-region="([^"]+)" class="(?!unreachable)', table)


def row_of(body: str, region: str) -> str:
    return re.search(rf'<tr data-region="{region}"[^>]*>(.*?)</tr>', body, re.S)[1]


# --- every page, both languages -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "english", "chinese_text"),
    [
        ("/", "Chip catalogue", "芯片目录"),
        (CHIPS, "Conversion factor (SCU per chip-hour)", "折算系数"),
        (REGIONS, "Green-power share", "绿电占比"),
        (MOVE_WEST, "Network surcharge", "网络附加费（运力费）"),  # noqa: RUF001
    ],
)
def test_page_renders_in_english_and_chinese(client, url, english, chinese_text):
    """Each page answers 200 in English by default and in Chinese by cookie or by the
    browser's Accept-Language."""
    body = html(client.get(url))
    assert english in body
    assert chinese_text not in body
    assert 'lang="en"' in body

    assert chinese_text in html(client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"))
    zh = html(chinese(client).get(url))
    assert chinese_text in zh
    assert 'lang="zh-hans"' in zh
    assert "Yiwang 一网" in zh


def test_base_layout_keeps_htmx_csrf_and_language_switcher(client):
    """htmx is loaded, the CSRF token rides on <body>, and the language form posts to
    set_language."""
    body = html(client.get(CHIPS))
    assert re.search(r"<script[^>]+htmx", body)
    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'>", body)
    assert f'action="{reverse("set_language")}"' in body
    assert 'aria-current="page"' in body


def test_login_link_leads_visitors_to_the_login_form(client):
    """A visitor sees "Log in" in the header, pointing at /accounts/login/ with the
    page to come back to; that page is the log-in form, in Chinese too."""
    assert reverse("login") == "/accounts/login/"
    body = html(client.get(CHIPS))
    link = re.search(r'<a class="login" href="([^"]+)">Log in</a>', body)
    assert link, "no log-in link in the header"
    assert link[1] == "/accounts/login/?next=/catalogue/chips/"
    form = html(client.get(link[1]))
    assert "<h1>Log in</h1>" in form
    assert re.search(r'<input[^>]*name="username"', form)
    assert re.search(r'<input[^>]*type="password"[^>]*name="password"', form)
    assert '<input type="hidden" name="next" value="/catalogue/chips/">' in form
    assert "<h1>登录</h1>" in html(chinese(client).get(link[1]))


def test_language_switch_redirects_back_in_chinese(client):
    """Posting the switcher's form sets the language and returns to the page."""
    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": CHIPS}
    )
    assert response.status_code == 302
    assert response["Location"] == CHIPS
    assert "芯片目录" in html(client.get(CHIPS))


# --- chip catalogue -----------------------------------------------------------------


def test_chips_mark_estimated_factor_with_missing_metric(client):
    """Ascend 910B1's training factor lacks memory bandwidth: marked "est." with the
    metric in its tooltip; "估" in Chinese."""
    cell = factor_cell(html(client.get(CHIPS)), "huawei-ascend-910b1", "train")
    assert re.search(r'<sup class="flag est" title="[^"]*memory bandwidth', cell)
    assert ">est.</sup>" in cell

    zh = factor_cell(html(chinese(client).get(CHIPS)), "huawei-ascend-910b1", "train")
    assert ">估</sup>" in zh
    assert "内存带宽" in zh


def test_chips_show_dash_where_no_factor(client):
    """The L40S has no FP64 figure, so no hpc factor: a dash, not a zero."""
    body = html(client.get(CHIPS))
    cell = factor_cell(body, "nvidia-l40s", "hpc")
    assert "—" in cell
    assert "flag est" not in cell
    assert "1.000" in factor_cell(body, "nvidia-a100-80gb-sxm", "train")
    assert "flag est" not in factor_cell(body, "nvidia-a100-80gb-sxm", "train")


def test_chips_mark_unverified_figures(client):
    """The H20's BF16 figure is listed as unverified; the A100's row has no marker."""
    body = html(client.get(CHIPS))
    h20 = re.search(r'<tr data-chip="nvidia-h20-96gb">(.*?)</tr>', body, re.S)[1]
    a100 = re.search(r'<tr data-chip="nvidia-a100-80gb-sxm">(.*?)</tr>', body, re.S)[1]
    assert 'class="flag unverified"' in h20
    assert 'class="flag unverified"' not in a100


def test_chips_show_table_version_and_effective_time(client):
    body = html(client.get(CHIPS))
    assert re.search(r"Conversion table</dt><dd[^>]*>v1</dd>", body)
    assert "<time datetime=" in body


@pytest.mark.parametrize(
    ("query", "present", "absent", "count"),
    [
        ({"stack": "CANN"}, "huawei-ascend-910b1", "nvidia-a100-80gb-sxm", 7),
        ({"kind": "cpu"}, "intel-xeon-platinum-8480", "nvidia-l40s", 4),
        ({"stack": "CUDA", "kind": "cpu"}, None, "nvidia-l40s", 0),
    ],
)
def test_chips_filter_by_stack_and_kind(client, query, present, absent, count):
    body = html(client.get(CHIPS, query))
    assert len(re.findall(r"<tr data-chip=", body)) == count
    if present:
        assert f'data-chip="{present}"' in body
    assert f'data-chip="{absent}"' not in body


def test_chips_bad_filter_shows_error_and_lists_all(client):
    """An unknown stack is reported beside the field; the list is left unfiltered."""
    body = html(client.get(CHIPS, {"stack": "<script>", "kind": "gpu"}))
    assert "Select a valid choice" in body
    assert "<script>" not in body
    assert len(re.findall(r"<tr data-chip=", body)) == 33


def test_chips_query_count_is_constant(client, django_assert_max_num_queries):
    """Stacks, chips, profiles, the current table and all its factors: five queries
    however many chips there are, and the suspended regions' banner (cold here)."""
    regions_suspended_forget()
    with django_assert_max_num_queries(6):
        html(client.get(CHIPS))


# --- regions ------------------------------------------------------------------------


def test_regions_map_draws_every_region_coloured_by_role(client):
    """One marker per region, filled with its role's colour, and the demand-to-west
    links with latency in their tooltip."""
    body = html(client.get(REGIONS))
    assert body.count('<g class="marker"') == 15
    sh = re.search(r'<g class="marker" data-region="CITY-SH">(.*?)</g>', body, re.S)[1]
    assert f'fill="{ROLE_COLOURS[Region.Role.EAST_DEMAND]}"' in sh
    links = re.findall(
        r'<line [^>]*data-from="(CITY-[^"]+)" data-to="(CLU-[^"]+)"', body
    )
    assert len(links) == 5 * 6
    assert re.search(r"ms one-way, [\d.]+ CNY/GB</title>", body)


def test_regions_table_says_unknown_for_missing_green_share(client):
    """A null green share reads "unknown" / "未知", never 0%."""
    Region.objects.filter(code="CLU-GUIAN").update(green_share=None)
    row = row_of(html(client.get(REGIONS)), "CLU-GUIAN")
    assert "unknown" in row
    assert "0%" not in row
    assert "0.40" in row  # electricity price, CNY/kWh

    zh = row_of(html(chinese(client).get(REGIONS)), "CLU-GUIAN")
    assert "未知" in zh
    assert "贵安数据中心集群" in zh
    assert "贵州" in zh  # hub


def test_regions_table_shows_a_known_green_share(client):
    Region.objects.filter(code="CLU-ZHONGWEI").update(green_share=Decimal("0.4500"))
    assert "45.0%" in row_of(html(client.get(REGIONS)), "CLU-ZHONGWEI")


def test_regions_query_count_is_constant(client, django_assert_max_num_queries):
    regions_suspended_forget()  # the banner's read, cold: one query more
    with django_assert_max_num_queries(3):
        html(client.get(REGIONS))


# --- move west ----------------------------------------------------------------------


def test_move_west_defaults_rank_hand_checked(client):
    """Shanghai, train, 1000 SCU-h, 500 GB on the A100 (400 W, factor 1). The train
    tariff assumes 0.05 GB per SCU-h, so s(west, Shanghai) = 0.33 x 0.05 = 0.02:

    Horinger: 1000 x 0.4 kW x PUE 1.2 = 480 kWh x 0.35 = 168.00 + 0.02 x 1000 = 20.00
    -> 188.00.  Zhongwei: 480 kWh x 0.36 = 172.80 + 20.00 = 192.80.  Qingyang: 480 x
    0.38 = 182.40 + 20.00 = 202.40.  Gui'an: 480 x 0.40 = 192.00 + 20.00 = 212.00.
    Shanghai itself: 584 kWh x 0.72 = 420.48. The job's 500 GB is not added again:
    the surcharge prices the 1000 x 0.05 = 50 GB the tariff assumes.
    """
    body = html(client.get(MOVE_WEST))
    order = result_regions(body)
    assert order[:4] == ["CLU-HORINGER", "CLU-ZHONGWEI", "CLU-QINGYANG", "CLU-GUIAN"]
    assert len(order) == 15
    horinger, home = row_of(body, "CLU-HORINGER"), row_of(body, "CITY-SH")
    assert "cheapest" in horinger
    assert "420.48" in home
    assert ">home<" in home
    for figure in ("0.02", "20.00", "50.0", "168.00", "188.00", "-232.48"):
        assert figure in horinger
    assert "Move to Horinger" in body
    assert "232.48 CNY (55.3%) less than in Shanghai" in body
    assert "own 500.0 GB is shown for comparison and is not added" in body


def test_move_west_other_origin_and_chip(client):
    """From Beijing on an H100 for hpc: the local row is Beijing and the chip and
    profile are named in the assumptions."""
    body = html(
        client.get(
            MOVE_WEST,
            {"origin": "CITY-BJ", "profile": "hpc", "chip": "nvidia-h100-sxm-80gb"},
        )
    )
    assert ">home<" in row_of(body, "CITY-BJ")
    assert "NVIDIA H100 SXM 80GB: factor" in body
    assert "High-performance computing" in body


def test_move_west_lists_unreachable_regions(client):
    """A region with no surcharge entry towards the origin cannot trade with it."""
    from market.models import Surcharge, SurchargeTable

    v1 = SurchargeTable.objects.get(profile__code="train", version=1)
    v2 = SurchargeTable.objects.create(
        profile=v1.profile, version=2, effective_at=v1.effective_at
    )
    Surcharge.objects.bulk_create(
        Surcharge(
            table=v2,
            sell_region_id=s.sell_region_id,
            buy_region_id=s.buy_region_id,
            surcharge=s.surcharge,
            latency_ms=s.latency_ms,
        )
        for s in Surcharge.objects.filter(table=v1).exclude(
            sell_region__code="CLU-GUIAN", buy_region__code="CITY-SH"
        )
    )

    body = html(client.get(MOVE_WEST))
    assert "CLU-GUIAN" not in result_regions(body)
    assert "unreachable: no network link" in row_of(body, "CLU-GUIAN")
    assert "surcharge table v2" in body


@pytest.mark.parametrize(
    ("query", "field", "message", "kept"),
    [
        ({"scu_h": "-5"}, "scu_h", "greater than or equal to 0.1", "-5"),
        ({"scu_h": "abc"}, "scu_h", "Enter a number.", "abc"),
        ({"scu_h": "1e999"}, "scu_h", "less than or equal to", "1e999"),
        ({"scu_h": "99999999999"}, "scu_h", "less than or equal to", "99999999999"),
        ({"scu_h": "NaN"}, "scu_h", "Enter a number.", "NaN"),
        ({"scu_h": "1.25"}, "scu_h", "decimal place", "1.25"),
        ({"scu_h": ""}, "scu_h", "This field is required.", None),
        ({"data_gb": "-1"}, "data_gb", "greater than or equal to 0", "-1"),
        ({"origin": "MARS"}, "origin", "Select a valid choice", None),
        ({"profile": "mining"}, "profile", "Select a valid choice", None),
        ({"chip": "no-such-chip"}, "chip", "Select a valid choice", None),
        (
            {"chip": "intel-xeon-platinum-8480"},
            "chip",
            "has no conversion factor for train",
            None,
        ),
        ({"chip": "hygon-dcu-k100_ai"}, "chip", "has no published TDP", None),
    ],
)
def test_move_west_bad_input_shows_error_beside_field(
    client, query, field, message, kept
):
    """Bad input is a 200 with the message in the field's error slot and what the user
    typed still in the input; no result table."""
    body = html(client.get(MOVE_WEST, query))
    slot = re.search(
        rf'<div class="field-errors" id="err-{field}"[^>]*>(.*?)</div>', body
    )
    assert slot
    assert message in slot[1]
    if kept is not None:
        typed = re.search(rf'<input[^>]*name="{field}"[^>]*>', body)[0]
        assert f'value="{kept}"' in typed
        assert 'aria-invalid="true"' in typed
    assert 'class="grid mw-table"' not in body
    assert "Correct the marked fields" in body


def test_move_west_errors_in_chinese(client):
    body = html(chinese(client).get(MOVE_WEST, {"scu_h": "abc"}))
    assert "输入一个数字" in body
    assert "请更正标红的字段" in body


def test_move_west_nul_is_refused_up_front(client):
    """NUL never reaches the form (middleware), and is a 400, not a 500."""
    assert client.get(MOVE_WEST, {"origin": "CITY-SH\x00"}).status_code == 400


def test_move_west_refuses_post(client):
    assert client.post(MOVE_WEST, {"origin": "CITY-SH"}).status_code == 405


def test_move_west_htmx_returns_partial_with_oob_errors(client):
    """With HX-Request the view returns only the result and the fields' error slots
    (swapped out of band), and says the response varies on that header."""
    response = client.get(MOVE_WEST, {"origin": "CITY-BJ"}, **HTMX)
    body = html(response)
    assert "<html" not in body
    assert "<form" not in body
    assert 'class="grid mw-table"' in body
    assert ">home<" in row_of(body, "CITY-BJ")
    assert 'id="err-scu_h" aria-live="polite" hx-swap-oob="true"' in body
    assert "HX-Request" in response["Vary"]

    bad = html(client.get(MOVE_WEST, {"scu_h": "-1"}, **HTMX))
    assert re.search(r'id="err-scu_h"[^>]*hx-swap-oob="true">.*0\.1', bad)
    assert "Correct the marked fields" in bad


def test_move_west_htmx_history_restore_gets_the_full_page(client):
    body = html(
        client.get(
            MOVE_WEST, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
        )
    )
    assert "<html" in body
    assert 'hx-get="/catalogue/move-west/"' in body


def test_move_west_full_page_wires_htmx(client):
    body = html(client.get(MOVE_WEST))
    form = re.search(r"<form[^>]*mw-form[^>]*>", body, re.S)[0]
    for attr in (
        'hx-get="/catalogue/move-west/"',
        'hx-target="#mw-result"',
        "novalidate",
    ):
        assert attr in form
    assert 'id="mw-result"' in body


def test_move_west_query_count_is_constant(client, django_assert_max_num_queries):
    """Regions, profiles, chips, the conversion table and its factors, the surcharge
    table, its entries into the origin and the origin's links; the banner's read."""
    regions_suspended_forget()
    with django_assert_max_num_queries(9):
        html(client.get(MOVE_WEST, {"origin": "CITY-BJ", "profile": "infer"}))


@pytest.mark.parametrize(
    "query",
    [
        "scu_h=1e999999999999999999",
        "scu_h=" + "9" * 6000,
        "scu_h=Infinity",
        "scu_h=sNaN",
        "scu_h=1e-999999999",
        "origin=CITY-SH&origin=CITY-BJ",
        "chip=%FF%FE",
        "stack=%FF&kind=" + "x" * 10000,
        "profile=cpu&chip=nvidia-a100-80gb-sxm",
    ],
)
@pytest.mark.parametrize("url", [MOVE_WEST, CHIPS])
@pytest.mark.parametrize("headers", [{}, HTMX])
def test_odd_input_never_fails_the_page(client, url, query, headers):
    """Whatever the query string holds, the page answers 200 (errors in the form)."""
    assert client.get(f"{url}?{query}", **headers).status_code == 200
