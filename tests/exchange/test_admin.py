"""Operators' admin actions go through the entry points."""

import pytest

from exchange.models import Instrument, Order
from tests.exchange.conftest import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(admin_client):
    return admin_client


def test_halt_and_resume_from_admin(operator, instrument):
    url = "/admin/exchange/instrument/"
    operator.post(url, {"action": "halt", "_selected_action": [instrument.pk]})
    assert Instrument.objects.get(pk=instrument.pk).state == "halted"
    operator.post(url, {"action": "resume", "_selected_action": [instrument.pk]})
    assert Instrument.objects.get(pk=instrument.pk).state == "open"


def test_operator_cancels_an_order(operator, instrument, buyer):
    order = place(buyer, instrument, "buy", "5.0", "12.00").order
    operator.post(
        "/admin/exchange/order/",
        {"action": "cancel_orders", "_selected_action": [order.pk]},
    )
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_resize_refuses_to_drop_below_commitment(operator, instrument, seller):
    place(seller, instrument, "sell", "100.0", "12.00")
    response = operator.post(
        "/admin/market/cluster/",
        {
            "action": "resize",
            "_selected_action": [seller.cluster.pk],
            "apply": "1",
            "count": "1",
            "reason": "provider asked",
        },
        follow=True,
    )
    assert "cannot drop below" in response.content.decode()
    seller.cluster.refresh_from_db()
    assert seller.cluster.count == 64


@pytest.mark.parametrize(
    "path",
    [
        "/admin/exchange/instrument/",
        "/admin/exchange/order/",
        "/admin/exchange/trade/",
        "/admin/exchange/orderevent/",
        "/admin/settlement/account/",
        "/admin/settlement/journalentry/",
        "/admin/settlement/hold/",
        "/admin/settlement/obligation/",
        "/admin/market/cluster/",
        "/admin/settlement/journalentry/adjust/",
        "/admin/market/region/",
        "/admin/market/apikey/",
    ],
)
def test_admin_pages_render_with_search_and_filters(operator, instrument, path):
    assert operator.get(path).status_code == 200
    if not path.endswith("adjust/"):
        assert operator.get(path, {"q": "x"}).status_code == 200


def test_operator_revokes_a_compromised_api_key(operator, buyer):
    from market.apikeys import apikey_create, apikey_resolve

    created = apikey_create(user=buyer.user, name="bot")
    assert apikey_resolve(created.key) is not None
    response = operator.get("/admin/market/apikey/?q=" + created.api_key.prefix)
    assert created.api_key.prefix in response.content.decode()
    operator.post(
        "/admin/market/apikey/",
        {"action": "revoke", "_selected_action": [created.api_key.pk]},
    )
    assert apikey_resolve(created.key) is None
