"""The public catalogue pages in a real browser, in English and Chinese: the language
switcher, the estimated-factor marker, and the move-west form refreshing its result
table in place through htmx (and showing errors beside the field)."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1440, "height": 900}
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "02_hubs_regions.json"


def test_chip_catalogue_english_then_switch_to_chinese(new_context, site, artifacts):
    """The catalogue renders in English; choosing 简体中文 in the top bar reloads it in
    Chinese, with the estimated marker on the Ascend 910B1's training factor."""
    page = new_context(locale="en-US", viewport=VIEWPORT).new_page()
    page.goto(f"{site}/catalogue/chips/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Chip catalogue")
    expect(page.locator("th.group-head.factor-head")).to_contain_text(
        "Conversion factor"
    )
    train = page.locator('tr[data-chip="huawei-ascend-910b1"] td[data-profile="train"]')
    expect(train.locator("sup.flag.est")).to_have_text("est.")
    expect(train.locator("sup.flag.est")).to_have_attribute(
        "title", re.compile("memory bandwidth")
    )
    page.screenshot(path=artifacts / "chips-en.png", full_page=True)

    page.get_by_label("Language").select_option("zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("芯片目录")
    expect(page.locator("th.factor-head")).to_contain_text("折算系数")
    expect(train.locator("sup.flag.est")).to_have_text("估")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.screenshot(path=artifacts / "chips-zh.png", full_page=True)


def test_chip_catalogue_filters_by_stack(new_context, site):
    """The stack filter is a plain GET form."""
    page = new_context(locale="en-US", viewport=VIEWPORT).new_page()
    page.goto(f"{site}/catalogue/chips/")
    page.get_by_label("Software stack").select_option("CANN")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"stack=CANN"))
    expect(page.locator("tbody tr")).to_have_count(7)
    expect(page.locator('tr[data-chip="nvidia-a100-80gb-sxm"]')).to_have_count(0)


def test_move_west_updates_in_place_in_chinese(new_context, site, artifacts):
    """A Chinese browser gets the page in Chinese; changing the origin refreshes the
    result table through htmx (the URL follows), and a bad figure shows its message
    beside the field and keeps what was typed."""
    page = new_context(locale="zh-CN", viewport=VIEWPORT).new_page()
    page.goto(f"{site}/catalogue/move-west/")
    expect(page.get_by_role("heading", level=1)).to_have_text("算力西迁划算吗？")  # noqa: RUF001
    expect(page.locator("tr.local")).to_contain_text("上海")
    expect(page.locator("thead")).to_contain_text("网络附加费")
    page.screenshot(path=artifacts / "move-west-zh.png", full_page=True)

    page.locator("#id_origin").select_option("CITY-BJ")
    expect(page.locator("tr.local")).to_contain_text("北京")
    expect(page).to_have_url(re.compile(r"origin=CITY-BJ"))
    expect(page.get_by_role("heading", level=1)).to_have_count(1)

    page.locator("#id_scu_h").fill("一千")
    page.locator("#id_scu_h").press("Tab")
    expect(page.locator("#err-scu_h")).to_contain_text("输入一个数字")
    expect(page.locator("#id_scu_h")).to_have_value("一千")
    expect(page.locator("#mw-result")).to_contain_text("请更正")
    page.screenshot(path=artifacts / "move-west-zh-error.png", full_page=True)

    page.locator("#id_scu_h").fill("5000")
    page.locator("#id_scu_h").press("Tab")
    expect(page.locator("#err-scu_h")).to_be_empty()
    expect(page.locator("tr.local")).to_contain_text("北京")


def test_move_west_english_profile_change(new_context, site, artifacts):
    """Switching the profile to rendering redraws the table with that profile's
    surcharges, without a page load."""
    page = new_context(locale="en-US", viewport=VIEWPORT).new_page()
    page.goto(f"{site}/catalogue/move-west/")
    expect(page.locator(".verdict")).to_be_visible()
    page.evaluate("window.__marker = 1")
    page.locator("#id_profile").select_option("render")
    expect(page.locator(".assumptions")).to_contain_text("Rendering")
    assert page.evaluate("window.__marker") == 1  # same document: swapped in place
    page.screenshot(path=artifacts / "move-west-en.png", full_page=True)


def test_regions_map_in_both_languages(new_context, site, artifacts):
    """One marker per region on the map; Chinese names, and the sourced green share
    (fixtures, from ../shared/refdata/regions.csv) shown as a percentage."""
    page = new_context(locale="en-US", viewport=VIEWPORT).new_page()
    page.goto(f"{site}/catalogue/regions/")
    expect(page.locator("svg.region-map g.marker")).to_have_count(15)
    expect(page.locator("svg.region-map .links line")).to_have_count(30)
    page.screenshot(path=artifacts / "regions-en.png", full_page=True)

    zh = new_context(locale="zh-CN", viewport=VIEWPORT).new_page()
    zh.goto(f"{site}/catalogue/regions/")
    expect(zh.locator('tr[data-region="CLU-GUIAN"]')).to_contain_text("贵安")
    guian = next(
        row["fields"]
        for row in json.loads(FIXTURE.read_text())
        if row["fields"].get("code") == "CLU-GUIAN"
    )
    share = f"{Decimal(str(guian['green_share'])) * 100:.1f}%"
    expect(zh.locator('tr[data-region="CLU-GUIAN"]')).to_contain_text(share)
    zh.screenshot(path=artifacts / "regions-zh.png", full_page=True)
