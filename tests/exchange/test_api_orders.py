"""Orders over REST: placement and its refusals (precedence 401, 403, 400, 404, 409,
422), client_order_id replays, amend, cancel, cancel-all, batches and fills."""

from decimal import Decimal

import pytest

from exchange.models import Instrument, Order
from market.models import Surcharge
from settlement.models import Account
from tests.apiclient import client_for, error
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place

pytestmark = pytest.mark.django_db


def buy(instrument, price="12.00", quantity="10.0", **extra) -> dict:
    body = {"instrument": instrument.symbol, "side": "buy", "price": price}
    return body | {"quantity": quantity} | extra


def sell(instrument, seller, price="12.00", quantity="10.0", **extra) -> dict:
    body = {"instrument": instrument.symbol, "side": "sell", "price": price}
    return body | {"quantity": quantity, "cluster": seller.cluster.pk} | extra


@pytest.fixture
def buyer_api(buyer):
    return client_for(buyer)


@pytest.fixture
def seller_api(seller):
    return client_for(seller)


def test_resting_buy_is_201_with_the_order(instrument, buyer_api):
    response = buyer_api.post("/api/v1/orders/", buy(instrument), format="json")
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "open"
    assert (order["price"], order["quantity"]) == ("12.00", "10.0")
    assert order["remaining_quantity"] == "10.0"
    assert order["region"] == "CITY-SH"  # the participant's home region
    assert order["fills"] == []
    assert order["average_price"] is None
    assert order["sequence"] == 1
    assert order["created_at"].endswith("+08:00")


def test_crossing_sell_returns_its_fills_with_maker_taker_and_fees(
    instrument, buyer_api, seller, seller_api
):
    buyer_api.post("/api/v1/orders/", buy(instrument, "13.00", "20.0"), format="json")
    response = seller_api.post(
        "/api/v1/orders/", sell(instrument, seller, "11.00", "8.0"), format="json"
    )
    assert response.status_code == 201
    order = response.json()
    s = Surcharge.objects.get(
        table=instrument.surcharge_table,
        sell_region__code="CLU-GUIAN",
        buy_region__code="CITY-SH",
    ).surcharge
    [fill] = order["fills"]
    assert order["status"] == "filled"
    assert fill["side"] == "sell"
    assert fill["liquidity"] == "taker"
    assert Decimal(fill["price"]) == Decimal("13.00") - s  # provider: bid - s
    assert fill["all_in_price"] == "13.00"
    assert Decimal(fill["surcharge"]) == s
    assert fill["quantity"] == "8.0"
    # Taker fee 10 bps on the site notional, rounded down.
    expected_fee = (Decimal("8.0") * Decimal(fill["price"]) / 1000).quantize(
        Decimal("0.0001"), "ROUND_FLOOR"
    )
    assert Decimal(fill["fee"]) == expected_fee
    fills = buyer_api.get("/api/v1/fills/").json()["results"]
    assert [(f["side"], f["liquidity"], f["all_in_price"]) for f in fills] == [
        ("buy", "maker", "13.00")
    ]
    assert set(fills[0]) == {
        "trade_id",
        "order_id",
        "instrument",
        "side",
        "price",
        "surcharge",
        "all_in_price",
        "quantity",
        "fee",
        "liquidity",
        "executed_at",
        "carbon_kg",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", 12.5),
        ("quantity", 10),
        ("price", "12.505"),
        ("price", "-1.00"),
        ("price", "NaN"),
        ("price", "1.2e1"),  # plain notation only, as the schema's pattern says
        ("quantity", "+10.0"),
        ("quantity", " 10.0"),
        ("quantity", "0.0"),
        ("side", "short"),
        ("instrument", "bad symbol"),
        ("client_order_id", "no spaces allowed"),
        ("constraints", {"stacks": []}),
        ("constraints", {"min_green_share": 0.5}),
        ("expires_at", "0001-01-01T00:00:00+14:00"),
    ],
)
def test_malformed_order_is_400_with_fields(instrument, buyer_api, field, value):
    response = buyer_api.post(
        "/api/v1/orders/", buy(instrument) | {field: value}, format="json"
    )
    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"
    assert field in error(response)["fields"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("instrument", "TRAIN-19990101"),
        ("region", "CITY-ATLANTIS"),
        ("constraints", {"stacks": ["COBOL"]}),
        ("constraints", {"residency_zone": "the-moon"}),
    ],
)
def test_unknown_references_are_400(instrument, buyer_api, field, value):
    response = buyer_api.post(
        "/api/v1/orders/", buy(instrument) | {field: value}, format="json"
    )
    assert response.status_code == 400
    assert field in error(response)["fields"]


def test_off_tick_price_is_400_never_rounded(buyer_api):
    instrument = make_instrument()
    Instrument.objects.filter(pk=instrument.pk).update(tick_size=Decimal("0.05"))
    response = buyer_api.post(
        "/api/v1/orders/", buy(instrument, price="12.03"), format="json"
    )
    assert response.status_code == 400
    assert "price" in error(response)["fields"]


def test_buyer_only_selling_is_403_before_any_400(instrument, buyer_api):
    body = {"instrument": "???", "side": "sell", "price": 1, "quantity": "x"}
    response = buyer_api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"


def test_not_open_instrument_is_409(instrument, buyer_api):
    Instrument.objects.filter(pk=instrument.pk).update(state="halted")
    response = buyer_api.post("/api/v1/orders/", buy(instrument), format="json")
    assert response.status_code == 409
    assert error(response)["code"] == "instrument_not_open"


def test_insufficient_funds_is_422_and_writes_nothing(instrument):
    poor = make_buyer(money=10)
    response = client_for(poor).post(
        "/api/v1/orders/", buy(instrument, quantity="100.0"), format="json"
    )
    assert response.status_code == 422
    assert error(response)["code"] == "insufficient_funds"
    assert not Order.objects.exists()


def test_price_out_of_band_is_422(instrument, buyer_api):
    response = buyer_api.post(
        "/api/v1/orders/", buy(instrument, price="99.00"), format="json"
    )
    assert response.status_code == 422
    assert error(response)["code"] == "price_out_of_band"


def test_market_order_without_band_needs_a_price(buyer_api):
    instrument = make_instrument(opening=None, band=None)
    body = buy(instrument, time_in_force="IOC", type="market")
    del body["price"]
    response = buyer_api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 422
    assert error(response)["code"] == "price_required"


def test_client_order_id_replay_is_200_with_the_original_fills(
    instrument, buyer_api, seller, seller_api
):
    seller_api.post(
        "/api/v1/orders/", sell(instrument, seller, "12.00", "5.0"), format="json"
    )
    body = buy(instrument, "13.00", "10.0", client_order_id="bot-1:0001")
    first = buyer_api.post("/api/v1/orders/", body, format="json")
    seller_api.post(
        "/api/v1/orders/", sell(instrument, seller, "12.00", "5.0"), format="json"
    )
    again = buyer_api.post("/api/v1/orders/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["fills"] == first.json()["fills"]  # not the later fill
    assert again.json()["status"] == "filled"  # its current state
    other = buyer_api.post("/api/v1/orders/", body | {"price": "12.40"}, format="json")
    assert other.status_code == 409
    assert error(other)["code"] == "client_order_id_conflict"
    assert Order.objects.filter(side="buy").count() == 1


def test_refused_order_does_not_use_up_its_client_order_id(instrument, buyer_api):
    body = buy(instrument, price="99.00", client_order_id="retry-me")
    assert buyer_api.post("/api/v1/orders/", body, format="json").status_code == 422
    fixed = buyer_api.post("/api/v1/orders/", body | {"price": "12.00"}, format="json")
    assert fixed.status_code == 201


def test_another_participants_order_is_404(instrument, buyer_api):
    order_id = buyer_api.post("/api/v1/orders/", buy(instrument), format="json").json()[
        "id"
    ]
    stranger = client_for(make_buyer())
    url = f"/api/v1/orders/{order_id}/"
    assert stranger.get(url).status_code == 404
    assert stranger.delete(url).status_code == 404
    patched = stranger.patch(url, {"price": "12.10"}, format="json")
    assert patched.status_code == 404
    assert error(patched)["code"] == "not_found"
    assert buyer_api.get(url).status_code == 200


def test_amend_cancel_and_cancel_again(instrument, buyer_api):
    order_id = buyer_api.post("/api/v1/orders/", buy(instrument), format="json").json()[
        "id"
    ]
    url = f"/api/v1/orders/{order_id}/"
    amended = buyer_api.patch(
        url, {"price": "12.10", "quantity": "15.0"}, format="json"
    )
    assert amended.status_code == 200
    assert (amended.json()["price"], amended.json()["quantity"]) == ("12.10", "15.0")
    assert buyer_api.patch(url, {}, format="json").status_code == 400
    assert buyer_api.patch(url, {"price": 12}, format="json").status_code == 400
    cancelled = buyer_api.delete(url)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = buyer_api.delete(url)
    assert again.status_code == 409
    assert error(again)["code"] == "order_not_open"
    assert buyer_api.patch(url, {"price": "12.20"}, format="json").status_code == 409
    assert buyer_api.get("/api/v1/orders/999999999/").status_code == 404


def test_list_filters_and_cancel_all(instrument, buyer_api):
    other = make_instrument(profile="infer", opening="9.00")
    for inst in (instrument, instrument, other):
        buyer_api.post("/api/v1/orders/", buy(inst, price="10.00"), format="json")
    listed = buyer_api.get("/api/v1/orders/", {"instrument": instrument.symbol})
    assert listed.json()["count"] == 2
    cancelled = buyer_api.delete(f"/api/v1/orders/?instrument={instrument.symbol}")
    assert cancelled.status_code == 200
    assert len(cancelled.json()["cancelled"]) == 2
    assert buyer_api.get("/api/v1/orders/", {"status": "open"}).json()["count"] == 1
    assert len(buyer_api.delete("/api/v1/orders/").json()["cancelled"]) == 1
    assert buyer_api.get("/api/v1/orders/", {"status": "bogus"}).status_code == 400


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=501", "offset=100001", "instrument=9+", "instrument=+X1"],
)
def test_query_out_of_range_or_pattern_is_400(buyer_api, query):
    """Found by schemathesis: a code with a blank around it was trimmed and taken."""
    assert buyer_api.get(f"/api/v1/orders/?{query}").status_code == 400


def test_batch_results_in_request_order_one_bad_order_does_not_sink_others(
    instrument, seller, seller_api
):
    orders = [
        sell(instrument, seller, "12.00", "5.0"),
        sell(instrument, seller, "99.00", "5.0"),  # out of band: 422
        sell(instrument, seller, "12.10", "5.0") | {"instrument": "NOPE-1"},  # 400
        sell(instrument, seller, "12.20", "5.0") | {"side": "buy", "cluster": None},
        sell(instrument, seller, "12.30", "5.0", client_order_id="b-1"),
    ]
    response = seller_api.post("/api/v1/orders/batch/", {"orders": orders}, "json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 422, 400, 403, 201]
    assert results[1]["error"]["code"] == "price_out_of_band"
    assert results[4]["order"]["client_order_id"] == "b-1"
    assert Order.objects.count() == 2


def test_batch_refusal_after_matching_leaves_nothing_and_later_orders_trade(
    instrument, buyer, buyer_api, seller, seller_api
):
    """A FOK the book cannot fill is refused by the engine after its row was written:
    the order's savepoint takes the row back, and the orders after it in the same
    batch see the book as it was."""
    from django.core.management import call_command

    from exchange import books

    seller_api.post("/api/v1/orders/", sell(instrument, seller, "12.00", "5.0"), "json")
    orders = [
        buy(instrument, "13.50", "2.0"),  # takes 2 of the 5
        buy(instrument, "13.50", "9.0", time_in_force="FOK"),  # only 3 left: 422
        buy(instrument, "13.50", "3.0"),  # takes the last 3
        buy(instrument, "11.00", "1.0", client_order_id="rest-1"),  # rests
    ]
    response = buyer_api.post("/api/v1/orders/batch/", {"orders": orders}, "json")
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 422, 201, 201]
    assert results[1]["error"]["code"] == "fok_not_fillable"
    assert [f["quantity"] for f in results[0]["order"]["fills"]] == ["2.0"]
    assert [f["quantity"] for f in results[2]["order"]["fills"]] == ["3.0"]
    assert Order.objects.filter(participant=buyer).count() == 3
    instrument.refresh_from_db()
    assert instrument.best_bid == Decimal("11.00")
    assert instrument.best_ask is None
    warm, rebuilt = books._books[instrument.pk], books.book_rebuild(instrument)
    assert warm.orders() == rebuilt.orders()
    assert warm.sequence == rebuilt.sequence == instrument.sequence
    call_command("reconcile")


def _batch(api, orders) -> list[dict]:
    response = api.post("/api/v1/orders/batch/", {"orders": orders}, "json")
    assert response.status_code == 200
    return response.json()["results"]


def test_batch_that_runs_out_of_money_refuses_the_orders_past_it(instrument):
    """Each 10 x 12.00 buy holds 120.12 (the fee at 10 bps included): 300 pays for
    two of them; the third is refused and leaves nothing."""
    from django.core.management import call_command

    poor = make_buyer(money="300")
    results = _batch(client_for(poor), [buy(instrument) for _ in range(3)])
    assert [r["status"] for r in results] == [201, 201, 422]
    assert results[2]["error"]["code"] == "insufficient_funds"
    assert Order.objects.filter(participant=poor).count() == 2
    available = Account.objects.get(participant=poor, kind="available").balance
    assert available == Decimal("300") - 2 * Decimal("120.12")
    call_command("reconcile")


def test_batch_order_may_use_money_an_earlier_fill_gave_back(instrument, seller):
    """The first buy fills below its limit and gets part of its hold back; the second
    needs that part (the batch's running total alone would refuse it)."""
    place(seller, instrument, "sell", "10.0", "10.00")
    s = Surcharge.objects.get(
        table=instrument.surcharge_table,
        sell_region__code="CLU-GUIAN",
        buy_region__code="CITY-SH",
    ).surcharge
    paid = Decimal("10.0") * (Decimal("10.00") + s)
    paid += (paid / 1000).quantize(Decimal("0.0001"), "ROUND_FLOOR")  # taker fee
    assert Decimal("120.12") - paid > Decimal("11.011")  # what the 2nd buy holds
    buyer = make_buyer(money=Decimal("120.12") + 5)
    orders = [buy(instrument, "12.00", "10.0"), buy(instrument, "11.00", "1.0")]
    results = _batch(client_for(buyer), orders)
    assert [r["status"] for r in results] == [201, 201]
    assert results[0]["order"]["status"] == "filled"
    assert results[1]["order"]["status"] == "open"
    available = Account.objects.get(participant=buyer, kind="available").balance
    assert available == Decimal("120.12") + 5 - paid - Decimal("11.011")


def test_batch_sells_share_their_cluster_capacity(instrument, seller, seller_api):
    """Two sells of 40% of the cluster fit, a third does not: the batch counts its
    own earlier sells, which are not written yet when the third is checked."""
    from exchange.services import capacity

    factor = capacity.factor_for(cluster=seller.cluster, instrument=instrument)
    most = seller.cluster.count * factor * instrument.hours
    part = (most * Decimal("0.4")).quantize(Decimal("0.1"), "ROUND_FLOOR")
    orders = [sell(instrument, seller, "12.00", str(part)) for _ in range(3)]
    results = _batch(seller_api, orders)
    assert [r["status"] for r in results] == [201, 201, 422]
    assert results[2]["error"]["code"] == "insufficient_capacity"
    # The same sells one by one, from another seller's cluster, agree.
    other = make_seller()
    api = client_for(other)
    statuses = [
        api.post("/api/v1/orders/", sell(instrument, other, "12.00", str(part)), "json")
        for _ in range(3)
    ]
    assert [r.status_code for r in statuses] == [201, 201, 422]


def test_batch_repeating_a_client_order_id_places_it_once(instrument, buyer_api):
    orders = [
        buy(instrument, client_order_id="twice"),
        buy(instrument, client_order_id="twice"),
        buy(instrument, "11.00", client_order_id="twice"),
    ]
    results = _batch(buyer_api, orders)
    assert [r["status"] for r in results] == [201, 200, 409]
    assert results[1]["order"]["id"] == results[0]["order"]["id"]
    assert results[2]["error"]["code"] == "client_order_id_conflict"
    assert Order.objects.count() == 1


def test_long_batch_repeating_a_client_order_id_places_it_once(instrument, buyer_api):
    """The same from enough orders that their rows are written by COPY."""
    from core.db import COPY_FROM

    orders = [buy(instrument, f"{10 + i / 100:.2f}") for i in range(COPY_FROM)]
    orders += [buy(instrument, client_order_id="again")] * 2
    results = _batch(buyer_api, orders)
    assert [r["status"] for r in results] == [201] * (COPY_FROM + 1) + [200]
    assert Order.objects.count() == COPY_FROM + 1


def test_batch_of_more_than_100_is_400(instrument, buyer_api):
    orders = [buy(instrument) for _ in range(101)]
    response = buyer_api.post("/api/v1/orders/batch/", {"orders": orders}, "json")
    assert response.status_code == 400
    assert not Order.objects.exists()


def test_malformed_batch_is_400_as_a_whole(instrument, buyer_api):
    orders = [buy(instrument), buy(instrument, price=12)]
    response = buyer_api.post("/api/v1/orders/batch/", {"orders": orders}, "json")
    assert response.status_code == 400
    assert not Order.objects.exists()


def test_clusters_capacity_and_others_are_404(seller, seller_api):
    make_instrument()
    make_instrument(profile="cpu", opening="0.60")  # the 910B has no cpu factor
    body = {"name": "new", "region": "CLU-GUIAN", "chip": "huawei-ascend-910b"}
    created = seller_api.post("/api/v1/clusters/", body | {"count": 8}, "json")
    assert created.status_code == 201
    cluster = created.json()
    assert (cluster["stack"], cluster["count"]) == ("CANN", 8)
    [capacity] = cluster["capacity"]
    assert capacity["profile"] == "train"
    expected = Decimal(capacity["factor"]) * 8 * 24
    assert Decimal(capacity["scu_h"]) == expected.quantize(
        Decimal("0.1"), "ROUND_FLOOR"
    )
    listed = seller_api.get("/api/v1/clusters/").json()
    assert listed["count"] == 2
    assert seller_api.post("/api/v1/clusters/", body | {"count": 1}, "json").status_code
    assert (
        seller_api.post("/api/v1/clusters/", body | {"count": 1}, "json").status_code
        == 400
    )  # the name is taken
    stranger = client_for(make_seller())
    assert stranger.get(f"/api/v1/clusters/{cluster['id']}/").status_code == 404
    buyer_only = client_for(make_buyer())
    forbidden = buyer_only.post("/api/v1/clusters/", body | {"count": 1}, "json")
    assert forbidden.status_code == 403


def test_sell_on_anothers_cluster_is_400(instrument, seller_api):
    other = make_seller()
    body = {"instrument": instrument.symbol, "side": "sell", "price": "12.00"}
    body |= {"quantity": "1.0", "cluster": other.cluster.pk}
    response = seller_api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 400
    assert "cluster" in error(response)["fields"]


def test_account_reflects_the_hold(instrument, buyer, buyer_api):
    buyer_api.post("/api/v1/orders/", buy(instrument, "10.00", "100.0"), "json")
    account = buyer_api.get("/api/v1/account/").json()
    assert account["currency"] == "CNY"
    assert account["held"] == "1001.0000"  # 1000 + 10 bps, rounded up
    held = Account.objects.get(participant=buyer, kind="held").balance
    assert Decimal(account["held"]) == held
    assert account["in_escrow"] == "0.0000"


def test_sell_on_a_cluster_deleted_after_it_was_seen_is_400(
    instrument, seller, seller_api
):
    """Clusters are kept per process once seen; one deleted meanwhile is refused
    under its lock, never a 500."""
    out_of_band = seller_api.post(
        "/api/v1/orders/", sell(instrument, seller, "99.00", "1.0"), "json"
    )
    assert out_of_band.status_code == 422  # the cluster was looked up (and kept)
    seller.cluster.delete()
    response = seller_api.post(
        "/api/v1/orders/", sell(instrument, seller, "12.00", "1.0"), "json"
    )
    assert response.status_code == 400
    assert "cluster" in error(response)["fields"]
    assert not Order.objects.exists()


def test_nul_in_a_body_is_401_without_a_key_then_400(instrument, buyer_api):
    """API.md's order of refusals holds for a NUL too: no key is a 401 first."""
    body = buy(instrument, client_order_id="nul\x00")
    anonymous = client_for().post("/api/v1/orders/", body, format="json")
    assert anonymous.status_code == 401
    assert error(anonymous)["code"] == "not_authenticated"
    keyed = buyer_api.post("/api/v1/orders/", body, format="json")
    assert keyed.status_code == 400
    assert error(keyed)["code"] == "invalid_character"
    assert not Order.objects.exists()
    page = client_for().get("/?q=%00")  # outside the API: refused at once
    assert page.status_code == 400
