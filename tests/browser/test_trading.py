"""Trading in a real browser, end to end: a buyer signs up, an operator approves the
deposit in the admin, the buyer bids and sees the bid in the book; a provider signs
up in Chinese, adds a cluster and sends a crossing ask; both see the trade (the
buyer's page picks it up by polling, without a reload) and the buyer's hold turns
into escrow. Screenshots of the main pages in both languages go to tests/artifacts/."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from market.models import Surcharge
from settlement.models import Obligation
from tests.exchange.conftest import make_instrument
from tests.otp import device_of, enter_code

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1440, "height": 900}
PASSWORD = "Compute-2026-west"
POLL_TIMEOUT = 10_000  # the trades list polls every 3 s


def sign_up(page, site, username, role, region):
    page.goto(f"{site}/accounts/signup/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("#id_display_name").fill(f"{username} Ltd")
    page.locator(f"input[name=role][value={role}]").check()
    page.locator("#id_home_region").select_option(region)
    page.locator("form.stack-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/funds/deposit/$"))


def request_deposit(page, amount):
    page.locator("#id_amount").fill(amount)
    page.locator("form.stack-form button[type=submit]").click()
    expect(page.locator(".message.success")).to_be_visible()


def approve_deposits(admin_page, site, artifacts=None):
    """The operator ticks every pending request and runs the Approve action."""
    admin_page.goto(f"{site}/admin/settlement/depositrequest/?status__exact=requested")
    admin_page.locator("#action-toggle").check()
    admin_page.locator("select[name=action]").select_option("approve")
    if artifacts is not None:
        admin_page.screenshot(path=artifacts / "trading-admin-deposits-en.png")
    admin_page.locator("button[name=index]").click()
    expect(admin_page.locator(".messagelist .success").first).to_contain_text(
        "approved and credited"
    )


def verify_clusters(admin_page, site):
    """The operator checks every cluster awaiting verification and verifies it."""
    admin_page.goto(f"{site}/admin/market/cluster/?verified_at__isempty=1")
    admin_page.locator("#action-toggle").check()
    admin_page.locator("select[name=action]").select_option("verify")
    admin_page.locator("button[name=index]").click()
    expect(admin_page.locator(".messagelist .success").first).to_contain_text(
        "verified"
    )


def shoot(page, artifacts, name):
    page.screenshot(path=artifacts / f"trading-{name}.png", full_page=True)


def test_buyer_and_provider_trade_in_the_browser(new_context, site, artifacts):
    instrument = make_instrument()
    operator = get_user_model().objects.create_superuser("operator", "", PASSWORD)
    device_of(operator)
    symbol = instrument.symbol

    # The operator, logged in to the admin.
    admin_page = new_context(locale="en-US", viewport=VIEWPORT).new_page()
    admin_page.goto(f"{site}/admin/login/")
    admin_page.locator("#id_username").fill("operator")
    admin_page.locator("#id_password").fill(PASSWORD)
    admin_page.locator("input[type=submit]").click()
    enter_code(admin_page, operator)
    expect(admin_page.locator("#operations-module")).to_contain_text(
        "Run reconciliation"
    )
    admin_page.screenshot(path=artifacts / "trading-admin-index-en.png")

    # A buyer in Shanghai signs up in English and asks for a deposit.
    buyer = new_context(locale="en-US", viewport=VIEWPORT).new_page()
    buyer.goto(f"{site}/")
    expect(buyer.get_by_role("heading", level=1)).to_have_text("Markets")
    shoot(buyer, artifacts, "markets-en")
    buyer.get_by_role("link", name="Sign up").click()
    shoot(buyer, artifacts, "signup-en")
    sign_up(buyer, site, "shanghai-render", "buyer", "CITY-SH")
    expect(buyer.locator(".message.success")).to_contain_text("Welcome to Yiwang")
    request_deposit(buyer, "100000")
    expect(buyer.locator("table.deposits tbody tr").first).to_contain_text("requested")

    approve_deposits(admin_page, site, artifacts)
    buyer.goto(f"{site}/funds/")
    expect(buyer.locator('[data-balance="available"] .value')).to_contain_text(
        "100,000.00"
    )

    # The buyer bids 50 SCU-h at 12.00 all-in; the preview shows the hold first.
    buyer.goto(f"{site}/")
    buyer.get_by_role("link", name=symbol).click()
    expect(buyer.get_by_role("heading", level=1)).to_contain_text(symbol)
    buyer.locator("#id_buy-price").fill("12.00")
    buyer.locator("#id_buy-quantity").fill("50")
    expect(buyer.locator('[data-testid="hold"]')).to_have_text("600.6000")
    expect(buyer.locator('[data-testid="serve-summary"]')).to_contain_text(
        "regions can serve this bid"
    )
    buyer.get_by_role("button", name="Place bid").click()
    expect(buyer.locator(".message.success")).to_contain_text("open: 0.0 of 50.0")
    bid_row = buyer.locator("table.bids tbody tr").first
    expect(bid_row).to_contain_text("12.00")
    expect(bid_row).to_contain_text("50.0")
    shoot(buyer, artifacts, "instrument-bid-en")

    # A provider signs up in Chinese, is funded, and adds a cluster in Gui'an.
    seller = new_context(locale="zh-CN", viewport=VIEWPORT).new_page()
    seller.goto(f"{site}/accounts/signup/")
    expect(seller.get_by_role("heading", level=1)).to_have_text("注册账户")
    shoot(seller, artifacts, "signup-zh")
    sign_up(seller, site, "guian-cloud", "seller", "CLU-GUIAN")
    expect(seller.locator(".message.success")).to_contain_text("欢迎来到一网")
    request_deposit(seller, "50000")
    shoot(seller, artifacts, "deposit-zh")
    approve_deposits(admin_page, site)

    seller.goto(f"{site}/accounts/clusters/")
    expect(seller.get_by_role("heading", level=1)).to_have_text("算力资源池")
    seller.locator("#id_name").fill("GA-910B")
    seller.locator("#id_region").select_option("CLU-GUIAN")
    seller.locator("#id_chip").select_option("huawei-ascend-910b")
    seller.locator("#id_count").fill("64")
    expect(seller.locator('#cluster-preview tr[data-profile="train"]')).to_be_visible()
    shoot(seller, artifacts, "clusters-zh")
    seller.get_by_role("button", name="添加算力资源池").click()
    expect(seller.locator(".message.success")).to_contain_text("GA-910B")

    # Until an operator has checked the cluster, its sells are refused, in Chinese.
    seller.goto(f"{site}/markets/{symbol}/")
    seller.locator("#id_sell-price").fill("11.00")
    seller.locator("#id_sell-quantity").fill("50")
    seller.get_by_role("button", name="提交卖单").click()
    expect(seller.locator("#ticket-sell")).to_contain_text("核验通过后即可出售")
    verify_clusters(admin_page, site)

    # The provider's ask at 11.00 crosses the bid (12.00 less the surcharge).
    seller.goto(f"{site}/markets/{symbol}/")
    expect(seller.locator("#tab-sell, #ticket-sell h2").first).to_contain_text("卖出")
    seller.locator("#id_sell-price").fill("11.00")
    seller.locator("#id_sell-quantity").fill("50")
    expect(seller.locator('[data-testid="bond"]')).to_have_text("55.0000")
    seller.get_by_role("button", name="提交卖单").click()
    expect(seller.locator(".message.success")).to_contain_text("全部成交")
    s = Surcharge.objects.get(
        table=instrument.surcharge_table,
        sell_region__code="CLU-GUIAN",
        buy_region__code="CITY-SH",
    ).surcharge
    site_price = f"{Decimal('12.00') - s:.2f}"
    expect(seller.locator("#trades tbody tr").first).to_contain_text(site_price)
    expect(seller.locator("#chart")).to_have_attribute("data-candles", "1")
    shoot(seller, artifacts, "instrument-zh")

    # The buyer's page, never reloaded, shows the trade through polling.
    expect(buyer.locator("#trades tbody tr").first).to_contain_text(
        "CLU-GUIAN → CITY-SH", timeout=POLL_TIMEOUT
    )
    expect(buyer.locator("#trades tbody tr").first).to_contain_text(site_price)
    expect(buyer.locator("table.bids")).to_contain_text(
        "No bids.", timeout=POLL_TIMEOUT
    )
    expect(buyer.locator("#chart")).to_have_attribute(
        "data-candles", "1", timeout=POLL_TIMEOUT
    )
    shoot(buyer, artifacts, "instrument-en")

    # The buyer's hold became escrow.
    obligation = Obligation.objects.get()
    escrow = obligation.escrow_amount + obligation.buyer_fee_escrowed
    buyer.goto(f"{site}/funds/")
    expect(buyer.locator('[data-balance="held"] .value')).to_contain_text("0.00 CNY")
    expect(buyer.locator('[data-balance="in_escrow"] .value')).to_contain_text(
        f"{escrow:,.2f}"
    )
    shoot(buyer, artifacts, "balances-en")
    buyer.get_by_role("link", name="My fills").click()
    expect(buyer.locator("table.fills tbody tr").first).to_contain_text("Bought")
    shoot(buyer, artifacts, "fills-en")
    buyer.get_by_role("link", name="Statement").click()
    expect(buyer.locator("table.ledger tbody")).to_contain_text("fill")
    shoot(buyer, artifacts, "ledger-en")
    buyer.get_by_role("link", name="Deliveries").click()
    expect(buyer.locator("table.deliveries tbody tr").first).to_contain_text(symbol)
    shoot(buyer, artifacts, "deliveries-en")
    buyer.get_by_role("link", name="API keys").click()
    buyer.locator("#id_name").fill("market maker")
    buyer.get_by_role("button", name="Create key").click()
    expect(buyer.locator('[data-testid="new-key"]')).to_have_text(
        re.compile(r"\S{40,}")
    )
    shoot(buyer, artifacts, "api-keys-en")

    # The provider sees the sale, its bond, and what the cluster has left.
    seller.goto(f"{site}/trade/fills/")
    expect(seller.locator("table.fills tbody tr").first).to_contain_text("卖出")
    shoot(seller, artifacts, "fills-zh")
    seller.goto(f"{site}/trade/capacity/")
    expect(seller.locator(f'tr[data-instrument="{symbol}"]')).to_be_visible()
    shoot(seller, artifacts, "capacity-zh")
    seller.goto(f"{site}/funds/")
    expect(seller.get_by_role("heading", level=1)).to_have_text("余额")
    shoot(seller, artifacts, "balances-zh")
    seller.goto(f"{site}/")
    expect(seller.locator("#locational")).to_contain_text("节点价格")
    shoot(seller, artifacts, "markets-zh")

    # The operator reconciles the ledger and the book after the trade.
    admin_page.goto(f"{site}/admin/")
    admin_page.get_by_role("link", name="Run reconciliation").click()
    admin_page.get_by_role("button", name="Run reconciliation").click()
    expect(admin_page.locator(".messagelist")).to_contain_text("All invariants hold.")
    admin_page.screenshot(path=artifacts / "trading-admin-reconcile-en.png")


def test_order_ticket_errors_keep_input_in_chinese(new_context, site, artifacts):
    """A Chinese buyer with too little money: an off-grid price is flagged beside
    the field as they type; the refused submit says why in Chinese and keeps every
    field."""
    instrument = make_instrument()
    page = new_context(locale="zh-CN", viewport=VIEWPORT).new_page()
    sign_up(page, site, "poor-lab", "buyer", "CITY-BJ")
    page.goto(f"{site}/markets/{instrument.symbol}/")
    page.locator("#id_buy-price").fill("12.005")
    expect(page.locator("#err-buy-price")).to_contain_text("价格须为 0.01 元的整数倍")
    page.locator("#id_buy-price").fill("12.00")
    page.locator("#id_buy-quantity").fill("10")
    expect(page.locator("#err-buy-price")).to_be_empty()
    expect(page.locator('[data-testid="available"]')).to_have_class(re.compile("short"))
    page.get_by_role("button", name="提交买单").click()
    expect(page.locator("#buy-errors")).to_contain_text("可用余额不足")
    expect(page.locator("#id_buy-price")).to_have_value("12.00")
    expect(page.locator("#id_buy-quantity")).to_have_value("10")
    expect(page.locator("#id_buy-region")).to_have_value("CITY-BJ")
    page.screenshot(path=artifacts / "trading-ticket-error-zh.png", full_page=True)
