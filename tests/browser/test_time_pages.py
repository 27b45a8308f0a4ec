"""Trading across time in a real browser, in English and Chinese: the forward curve
drawn on the index page (a day and its blocks as two series), and the advisor page
ranking plans from the live books with its verdicts."""

import pytest
from playwright.sync_api import expect

from tests.exchange.conftest import make_buyer, make_seller, place
from tests.exchange.test_products import day_of, listed

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1440, "height": 900}


@pytest.fixture
def market(site):
    """Tomorrow's train day and blocks; a trade in the day and in 04-08, and asks
    in Wuhu (home) and Horinger (west) for the advisor."""
    got, day = listed(), day_of(1)
    name = f"TRAIN-{day:%Y%m%d}"
    wuhu = make_seller("CLU-WUHU", "nvidia-a100-80gb-sxm", count=1000)
    west = make_seller("CLU-HORINGER", "nvidia-a100-80gb-sxm", count=1000)
    buyer = make_buyer("CLU-WUHU")
    for suffix, price in (("", "10.00"), ("-B0408", "9.80")):
        place(wuhu, got[name + suffix], "sell", "1.0", price)
        place(buyer, got[name + suffix], "buy", "1.0", price)
    place(wuhu, got[name], "sell", "50.0", "10.40")
    place(west, got[f"{name}-B0004"], "sell", "50.0", "9.70")
    return site


def test_forward_curve_chart_in_english_and_chinese(new_context, market, artifacts):
    page = new_context(locale="en-US", viewport=VIEWPORT).new_page()
    page.goto(f"{market}/index/train/")
    expect(page.get_by_role("heading", name="Forward curve")).to_be_visible()
    chart = page.locator("#forward-chart")
    expect(chart).to_have_attribute("data-points", "2")
    expect(chart.locator("canvas").first).to_be_visible()
    expect(page.locator('tr[data-basis="last"]')).to_have_count(2)
    page.screenshot(path=artifacts / "forward-en.png", full_page=True)

    zh = new_context(locale="zh-CN", viewport=VIEWPORT).new_page()
    zh.goto(f"{market}/index/train/")
    expect(zh.get_by_role("heading", name="远期曲线")).to_be_visible()
    expect(zh.locator("#forward-chart canvas").first).to_be_visible()
    expect(zh.locator(".forward-table")).to_contain_text("最新价")
    zh.screenshot(path=artifacts / "forward-zh.png", full_page=True)


def test_advisor_page_in_english_and_chinese(new_context, market, artifacts):
    """From Wuhu, 40 SCU-h: Horinger's night block is cheapest, so moving pays
    and, its window being the first, waiting does not."""
    query = "origin=CLU-WUHU&profile=train&scu_h=40&data_gb=20"
    page = new_context(locale="en-US", viewport=VIEWPORT).new_page()
    page.goto(f"{market}/advisor/?{query}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "When and where should I run?"
    )
    expect(page.get_by_test_id("verdict-move")).to_contain_text("Moving pays")
    expect(page.get_by_test_id("verdict-wait")).to_contain_text("Waiting does not pay")
    expect(page.locator('tr[data-plan="1"]')).to_contain_text("CLU-HORINGER")
    expect(page.locator('tr[data-plan="2"]')).to_contain_text("CLU-WUHU")
    page.screenshot(path=artifacts / "advisor-en.png", full_page=True)

    zh = new_context(locale="zh-CN", viewport=VIEWPORT).new_page()
    zh.goto(f"{market}/advisor/?{query}")
    expect(zh.get_by_role("heading", level=1)).to_have_text("何时何地运行最划算？")  # noqa: RUF001
    expect(zh.get_by_test_id("verdict-move")).to_contain_text("迁移划算")
    expect(zh.get_by_test_id("decisive")).to_contain_text("网络附加费")
    zh.screenshot(path=artifacts / "advisor-zh.png", full_page=True)
