"""Region suspension (DESIGN.md "Operators"): suspending a region cancels its resting
sells (reason `region_suspended`, bonds released), refuses new sells there and buys
from there with 422 `region_suspended` (the preview too), lets other buys trade
without ever meeting the region's asks, shows in `GET /api/v1/regions/`, and
resuming restores trading. From admin, the management commands and the services."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from exchange.models import Order
from exchange.services.regions import region_resume, region_suspend
from market.models import AuditEntry, RegionSuspension
from settlement.models import Account
from tests.apiclient import client_for, error
from tests.exchange.conftest import make_buyer, make_seller, place
from tests.operators import assert_reconciled, client_of, staff
from tests.threads import threads_together

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/orders/"


def sell(instrument, seller, price="11.00", quantity="10.0") -> dict:
    body = {"instrument": instrument.symbol, "side": "sell", "price": price}
    return body | {"quantity": quantity, "cluster": seller.cluster.pk}


def buy(instrument, price="14.00", quantity="5.0") -> dict:
    body = {"instrument": instrument.symbol, "side": "buy", "price": price}
    return body | {"quantity": quantity}


def balance(participant, kind) -> Decimal:
    return Account.objects.get(participant=participant, kind=kind).balance


@pytest.fixture
def operator(db):
    return staff("op-regions", "operator")


@pytest.fixture
def guian(instrument):
    """A seller in Gui'an with a resting sell."""
    seller = make_seller("CLU-GUIAN")
    place(seller, instrument, "sell", "10.0", "11.00")
    return seller


@pytest.fixture
def wuhu(instrument):
    """A seller in Wuhu with a dearer resting sell."""
    seller = make_seller("CLU-WUHU", "nvidia-a100-80gb-sxm")
    place(seller, instrument, "sell", "10.0", "12.00")
    return seller


def test_suspending_cancels_the_regions_resting_sells_and_releases_their_bonds(
    instrument, guian, wuhu, operator
):
    assert balance(guian, "bond") > 0
    suspension, cancelled = region_suspend(
        region="CLU-GUIAN", reason="power shortage", operator=operator
    )
    order = Order.objects.get(participant=guian)
    assert cancelled == [order.pk]
    assert (order.status, order.cancel_reason) == ("cancelled", "region_suspended")
    assert balance(guian, "bond") == 0
    assert Order.objects.get(participant=wuhu).status == "open"  # another region
    asks = client_for().get(f"/api/v1/instruments/{instrument.symbol}/book/").json()
    assert {level["region"] for level in asks["asks"]} == {"CLU-WUHU"}
    entry = AuditEntry.objects.get(action="region.suspend")
    assert (entry.operator, entry.reason) == (operator, "power shortage")
    assert entry.after == {"suspended": True, "sells_cancelled": 1}
    assert suspension.ended_at is None
    assert_reconciled()


def test_sells_there_and_buys_from_there_are_refused_others_trade_elsewhere(
    instrument, guian, wuhu, operator
):
    region_suspend(region="CLU-GUIAN", reason="grid fault", operator=operator)
    response = client_for(guian).post(ORDERS, sell(instrument, guian), format="json")
    assert response.status_code == 422
    assert error(response)["code"] == "region_suspended"
    assert "grid fault" in error(response)["message"]

    local = make_buyer("CLU-GUIAN")
    response = client_for(local).post(ORDERS, buy(instrument), format="json")
    assert (response.status_code, error(response)["code"]) == (422, "region_suspended")

    # A buyer elsewhere trades, and only with the ask outside the suspended region.
    east = make_buyer("CITY-SH")
    response = client_for(east).post(ORDERS, buy(instrument), format="json")
    assert response.status_code == 201
    fills = response.json()["fills"]
    assert fills
    assert {f["price"] for f in fills} == {"12.00"}
    assert Order.objects.get(participant=wuhu).filled_quantity == Decimal("5.0")
    assert Order.objects.filter(region__code="CLU-GUIAN", status="open").count() == 0
    assert_reconciled()


def test_the_preview_refuses_what_placement_refuses(instrument, guian, operator):
    region_suspend(region="CLU-GUIAN", reason="grid fault", operator=operator)
    response = client_for(guian).post(
        f"{ORDERS}preview/", sell(instrument, guian), format="json"
    )
    assert (response.status_code, error(response)["code"]) == (422, "region_suspended")


def test_resuming_restores_trading(instrument, guian, operator):
    region_suspend(region="CLU-GUIAN", reason="grid fault", operator=operator)
    region_resume(region="CLU-GUIAN", operator=operator, reason="power back")
    response = client_for(guian).post(ORDERS, sell(instrument, guian), format="json")
    assert response.status_code == 201
    response = client_for(make_buyer("CLU-GUIAN")).post(
        ORDERS, buy(instrument), format="json"
    )
    assert response.status_code == 201
    assert response.json()["fills"]
    assert RegionSuspension.objects.get().ended_by == operator
    assert AuditEntry.objects.filter(action="region.resume").count() == 1


def test_the_regions_list_shows_the_suspension(operator):
    def row():
        rows = client_for().get("/api/v1/regions/").json()
        rows = rows["results"] if isinstance(rows, dict) else rows
        return next(r for r in rows if r["code"] == "CLU-GUIAN")

    assert (row()["suspended"], row()["suspended_reason"]) == (False, None)
    region_suspend(region="CLU-GUIAN", reason="flood", operator=operator)
    assert (row()["suspended"], row()["suspended_reason"]) == (True, "flood")
    region_resume(region="CLU-GUIAN", operator=operator)
    assert row()["suspended"] is False


def test_suspending_twice_or_resuming_a_running_region_is_refused(operator):
    with pytest.raises(Exception, match="is not suspended"):
        region_resume(region="CLU-GUIAN", operator=operator)
    region_suspend(region="CLU-GUIAN", reason="flood", operator=operator)
    with pytest.raises(Exception, match="already suspended"):
        region_suspend(region="CLU-GUIAN", reason="again", operator=operator)
    assert RegionSuspension.objects.count() == 1


def test_the_commands_suspend_and_resume_for_a_named_operator(instrument, guian):
    staff("op-cmd", "operator")
    out = io.StringIO()
    call_command(
        "suspend_region",
        "CLU-GUIAN",
        reason="network fault",
        operator="op-cmd",
        stdout=out,
    )
    assert out.getvalue().strip() == "CLU-GUIAN suspended: 1 sells cancelled"
    assert Order.objects.get(participant=guian).cancel_reason == "region_suspended"
    out = io.StringIO()
    call_command("resume_region", "CLU-GUIAN", operator="op-cmd", stdout=out)
    assert out.getvalue().strip() == "CLU-GUIAN resumed"
    assert not RegionSuspension.objects.filter(ended_at__isnull=True).exists()


def test_the_command_refuses_an_operator_without_the_permission():
    staff("viewer-cmd", "viewer")
    with pytest.raises(CommandError, match="may not suspend regions"):
        call_command("suspend_region", "CLU-GUIAN", reason="x", operator="viewer-cmd")
    staff("op-cmd", "operator")
    with pytest.raises(CommandError, match="No region"):
        call_command("suspend_region", "NOWHERE", reason="x", operator="op-cmd")
    assert not RegionSuspension.objects.exists()


def test_admin_action_suspends_with_the_reason_typed(instrument, guian, operator):
    from market.models import Region

    region = Region.objects.get(code="CLU-GUIAN")
    response = client_of(operator).post(
        "/admin/market/region/",
        {
            "action": "suspend",
            "_selected_action": [region.pk],
            "apply": "1",
            "reason": "typhoon",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/admin/market/region/"
    assert RegionSuspension.objects.get(region=region).reason == "typhoon"
    assert Order.objects.get(participant=guian).status == "cancelled"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sell_racing_the_suspension_never_rests_in_the_suspended_region(
    catalogue,
):
    """Sells placed while the region is being suspended are either cancelled by it
    or refused after it: none rests there once both are done (real threads)."""
    from tests.exchange.conftest import make_instrument

    instrument = make_instrument()
    seller = make_seller("CLU-GUIAN", count=64)
    operator = staff("op-race", "operator")

    def act(i):
        if i == 0:
            return region_suspend(region="CLU-GUIAN", reason="race", operator=operator)
        outcomes = []
        for n in range(6):
            try:
                outcomes.append(place(seller, instrument, "sell", "1.0", f"1{n}.00"))
            except Exception as exc:  # the refusal after the suspension
                outcomes.append(exc)
        return outcomes

    results = threads_together(3, act)
    assert not isinstance(results[0], Exception), results[0]
    assert not Order.objects.filter(
        region__code="CLU-GUIAN", status__in=Order.OPEN_STATUSES
    ).exists()
    refusals = [r for rs in results[1:] for r in rs if isinstance(r, Exception)]
    assert all(getattr(r, "code", "") == "region_suspended" for r in refusals)
    assert_reconciled()


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "is suspended by the operators"), ("zh-hans", "暂停")],
)
def test_every_page_shows_the_suspension_in_both_languages(
    client, operator, django_capture_on_commit_callbacks, language, words
):
    with django_capture_on_commit_callbacks(execute=True):
        region_suspend(region="CLU-GUIAN", reason="grid fault", operator=operator)
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    for page in ("/", "/catalogue/regions/", "/catalogue/chips/"):
        body = client.get(page, **headers).content.decode()
        assert 'data-suspended-region="CLU-GUIAN"' in body, page
        assert words in body, page
        assert "grid fault" in body, page
    regions = client.get("/catalogue/regions/", **headers).content.decode()
    assert 'class="badge bad"' in regions
    with django_capture_on_commit_callbacks(execute=True):
        region_resume(region="CLU-GUIAN", operator=operator)
    assert "data-suspended-region" not in client.get("/", **headers).content.decode()


def test_a_resting_buy_from_a_suspended_region_cannot_amend_its_way_up(
    instrument, operator
):
    """Resting buys from the region stay (DESIGN.md cancels only its sells), but an
    amend that would lose its place, like a new order, is refused; one that keeps
    it (a smaller quantity) is not."""
    local = make_buyer("CLU-GUIAN")
    order = place(local, instrument, "buy", "5.0", "10.00").order
    region_suspend(region="CLU-GUIAN", reason="grid fault", operator=operator)
    api = client_for(local)
    response = api.patch(f"{ORDERS}{order.pk}/", {"price": "10.50"}, format="json")
    assert (response.status_code, error(response)["code"]) == (422, "region_suspended")
    response = api.patch(f"{ORDERS}{order.pk}/", {"quantity": "3.0"}, format="json")
    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.price, order.remaining_quantity) == (Decimal("10.00"), Decimal("3.0"))
