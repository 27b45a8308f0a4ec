"""Every page of the trading UI answers in English and in Chinese; private pages
need a log-in and a participant, and show only the owner's rows."""

import pytest

from tests.web.conftest import chinese, html, logged_in

pytestmark = pytest.mark.django_db

PUBLIC = [
    ("/", "Does moving work west pay?", "算力西迁划算吗？"),  # noqa: RUF001
    ("/markets/{symbol}/", "Order book by region", "分区域订单簿"),
    ("/accounts/signup/", "Create an account", "注册账户"),
    ("/accounts/login/", "New here?", "第一次来？"),  # noqa: RUF001
]
PRIVATE = [
    ("/accounts/settings/", "Your name on the exchange", "账户设置"),
    ("/accounts/api-keys/", "Create a key", "创建密钥"),
    ("/accounts/clusters/", "Add a cluster", "添加算力资源池"),
    ("/funds/", "In escrow", "资金托管中"),
    ("/funds/ledger/", "Export CSV", "导出 CSV"),
    ("/funds/deposit/", "Request a deposit", "申请入金"),
    ("/deliveries/", "Delivery versus payment", "货款对付"),
    ("/trade/orders/", "My orders", "我的订单"),
    ("/trade/fills/", "My fills", "我的成交"),
    ("/trade/capacity/", "Capacity per delivery window", "各交割时段产能"),
]


@pytest.mark.parametrize(("url", "english", "chinese_text"), PUBLIC)
def test_public_page_in_english_and_chinese(
    client, instrument, url, english, chinese_text
):
    """A visitor gets each public page in English, or in Chinese by cookie or by
    the browser's Accept-Language."""
    url = url.format(symbol=instrument.symbol)
    body = html(client.get(url))
    assert english in body
    assert chinese_text not in body
    assert chinese_text in html(client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"))
    zh = html(chinese(client).get(url))
    assert chinese_text in zh
    assert 'lang="zh-hans"' in zh


@pytest.mark.parametrize(("url", "english", "chinese_text"), PRIVATE)
def test_private_page_in_english_and_chinese(seller, url, english, chinese_text):
    """A logged-in participant (here a provider, who sees every tab) gets each
    private page in both languages, with the tabs of the private area."""
    client = logged_in(seller)
    body = html(client.get(url))
    assert english in body
    assert chinese_text not in body
    assert 'class="tabs"' in body
    zh = html(chinese(client).get(url))
    assert chinese_text in zh


@pytest.mark.parametrize(("url", "_english", "_chinese"), PRIVATE)
def test_private_page_needs_login(client, url, _english, _chinese):
    """A visitor is sent to the log-in page, which brings them back after."""
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize(("url", "_english", "_chinese"), PRIVATE)
def test_private_page_is_404_for_a_user_who_is_not_a_participant(
    staff_client, url, _english, _chinese
):
    """An operator's log-in is not a participant: the participant pages do not
    exist for it."""
    assert staff_client.get(url).status_code == 404


def test_unknown_instrument_is_404(client, db):
    assert client.get("/markets/NOPE-1/").status_code == 404
    assert client.get("/markets/NOPE-1/candles.json").status_code == 404


def test_navigation_shows_my_trading_only_when_logged_in(client, buyer_client):
    assert "My trading" not in html(client.get("/"))
    assert "Sign up" in html(client.get("/"))
    body = html(buyer_client.get("/"))
    assert "My trading" in body
    assert "Sign up" not in body


def test_buyer_tabs_leave_out_the_seller_pages(buyer_client):
    body = html(buyer_client.get("/funds/"))
    assert "/trade/orders/" in body
    assert "/trade/capacity/" not in body


def test_private_writes_need_csrf(buyer, instrument):
    """Every form posts with the CSRF token; without it the request is refused."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer.user)
    body = html(client.get("/funds/deposit/"))
    assert "csrfmiddlewaretoken" in body
    assert client.post("/funds/deposit/", {"amount": "10"}).status_code == 403
    assert (
        client.post(f"/markets/{instrument.symbol}/ticket/buy/preview/", {}).status_code
        == 403
    )
