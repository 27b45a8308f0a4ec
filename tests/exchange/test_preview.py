"""The order preview (`POST /api/v1/orders/preview/`) is placement run without its
writes: on a table of cases it answers what the real `POST /api/v1/orders/` placed
right after it then does (fills, quantities, fees, the hold or bond, resting, the
sequence number, or the same refusal), field by field; and it writes nothing (row
counts, key sequences, the instruments' sequence numbers and the warm book are as
they were), also in a real read-only snapshot."""

import threading
import time
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, transaction

from exchange import books, engine
from exchange.internal import book_rows
from exchange.models import Instrument, Trade
from exchange.services.preview import order_preview
from exchange.services.requests import OrderRequest
from settlement.models import Account, JournalEntry, Posting
from tests.apiclient import client_for, error
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place

PREVIEW, ORDERS = "/api/v1/orders/preview/", "/api/v1/orders/"
ALL_REGIONS = 15  # fixtures/02_hubs_regions.json


def buy(instrument, price="12.00", quantity="10.0", **extra) -> dict:
    body = {"instrument": instrument.symbol, "side": "buy", "price": price}
    return body | {"quantity": quantity} | extra


def two_sites(instrument):
    """Asks at two sites: Gui'an (Ascend) and Wuhu (A100)."""
    guian, wuhu = (
        make_seller("CLU-GUIAN"),
        make_seller("CLU-WUHU", "nvidia-a100-80gb-sxm"),
    )
    place(guian, instrument, "sell", "6.0", "10.00")
    place(wuhu, instrument, "sell", "5.0", "10.50")
    place(guian, instrument, "sell", "4.0", "13.00")


# --- the table: each case sets up the book and says who previews what -------------
def resting(instrument):
    two_sites(instrument)
    return make_buyer(), buy(instrument, "9.80", "10.0")


def crossing_two_regions(instrument):
    two_sites(instrument)
    return make_buyer(), buy(instrument, "13.50", "14.0", client_order_id="x-1")


def market_ioc(instrument):
    two_sites(instrument)
    return make_buyer(), buy(
        instrument, None, "8.0", type="market", time_in_force="IOC"
    )


def fok_not_fillable(instrument):
    two_sites(instrument)
    return make_buyer(), buy(instrument, "12.50", "30.0", time_in_force="FOK")


def insufficient_funds(instrument):
    two_sites(instrument)
    return make_buyer(money=50), buy(instrument, "12.00", "10.0")


def post_only_would_cross(instrument):
    two_sites(instrument)
    return make_buyer(), buy(instrument, "13.00", "3.0", post_only=True)


def no_region_green_enough(instrument):
    two_sites(instrument)
    constraints = {"min_green_share": "0.90"}  # no region reaches 90 %
    return make_buyer(), buy(instrument, "14.00", "5.0", constraints=constraints)


def a_sell(instrument):
    """Bids from Shanghai (any stack) and Beijing (CUDA only): an Ascend sell in
    Gui'an fills against Shanghai's and rests."""
    place(make_buyer("CITY-SH"), instrument, "buy", "5.0", "13.00")
    cuda = {"stacks": ["CUDA"]}
    place(make_buyer("CITY-BJ"), instrument, "buy", "5.0", "13.50", constraints=cuda)
    seller = make_seller("CLU-GUIAN")
    body = {"instrument": instrument.symbol, "side": "sell", "price": "11.00"}
    return seller, body | {"quantity": "8.0", "cluster": seller.cluster.pk}


CASES = [
    resting,
    crossing_two_regions,
    market_ioc,
    fok_not_fillable,
    insufficient_funds,
    post_only_would_cross,
    no_region_green_enough,
    a_sell,
]


# --- what "writes nothing" means -----------------------------------------------------
def state(instrument: Instrument) -> dict:
    """Every exchange and settlement table's row count, the key sequences (on
    PostgreSQL), the instruments' sequence numbers, and the warm book."""
    tables = [
        m
        for label in ("exchange", "settlement")
        for m in apps.get_app_config(label).get_models()
    ]
    warm = books.warm(instrument.symbol)
    out = {
        "rows": {m._meta.label: m.objects.count() for m in tables},
        "sequences": dict(Instrument.objects.values_list("symbol", "sequence")),
        "book": None if warm is None else (warm.sequence, book_rows(warm)),
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sequencename, last_value FROM pg_sequences")
            out["keys"] = dict(cursor.fetchall())
    return out


def first_set_aside(order_id: int) -> Decimal:
    """What placement set aside for the order when it accepted it (the ledger's
    first hold entry for it: into held for a buy, bond for a sell)."""
    entry = JournalEntry.objects.filter(reference=f"order:{order_id}", kind="hold")
    posting = Posting.objects.get(
        entry=entry.order_by("pk").first(),
        account__kind__in=[Account.Kind.HELD, Account.Kind.BOND],
    )
    return posting.amount


def assert_preview_is_placement(preview: dict, order: dict) -> None:
    trades = Trade.objects.select_related(
        "sell_region", "buy_region", "sell_order__stack"
    )
    by_id = {
        t.pk: t for t in trades.filter(pk__in=[f["trade_id"] for f in order["fills"]])
    }
    buy = order["side"] == "buy"
    placed_fills = [
        {
            **{k: f[k] for k in ("price", "surcharge", "all_in_price", "quantity")},
            "region": (
                by_id[f["trade_id"]].sell_region
                if buy
                else by_id[f["trade_id"]].buy_region
            ).code,
            "stack": by_id[f["trade_id"]].sell_order.stack.code,
        }
        for f in order["fills"]
    ]
    assert preview["fills"] == placed_fills
    assert preview["filled_quantity"] == order["filled_quantity"]
    assert preview["average_price"] == order["average_price"]
    assert Decimal(preview["fee"]) == sum(
        (Decimal(f["fee"]) for f in order["fills"]), Decimal(0)
    )
    assert preview["would_rest"] == (order["status"] in ("open", "partially_filled"))
    need = first_set_aside(order["id"])
    assert (Decimal(preview["hold"]), Decimal(preview["bond"])) == (
        (need, Decimal(0)) if buy else (Decimal(0), need)
    )
    assert order["sequence"] == preview["sequence"] + 1  # accepted next
    assert preview["replay_of"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_preview_equals_what_placement_then_does(case):
    """The preview answers what the real placement right after it does, and leaves
    every row, key, sequence number and the warm book as they were."""
    instrument = make_instrument()
    participant, body = case(instrument)
    api = client_for(participant)
    before = state(instrument)
    preview = api.post(PREVIEW, body, format="json")
    assert state(instrument) == before
    placed = api.post(ORDERS, body, format="json")
    if placed.status_code >= 400:
        assert preview.status_code == placed.status_code
        assert preview.json() == placed.json()
    else:
        assert (preview.status_code, placed.status_code) == (200, 201)
        assert_preview_is_placement(preview.json(), placed.json())


def verdicts(response) -> dict[str, tuple[bool, str | None]]:
    regions = response.json()["regions"]
    assert len(regions) == ALL_REGIONS
    return {r["region"]: (r["eligible"], r["reason"]) for r in regions}


@pytest.mark.django_db
def test_preview_names_the_regions_that_serve_a_buy():
    """Both sites the crossing buy fills from can serve it, in its fills."""
    instrument = make_instrument()
    participant, body = crossing_two_regions(instrument)
    response = client_for(participant).post(PREVIEW, body, format="json")
    assert {f["region"] for f in response.json()["fills"]} == {"CLU-GUIAN", "CLU-WUHU"}
    found = verdicts(response)
    assert found["CLU-GUIAN"] == found["CLU-WUHU"] == (True, None)


@pytest.mark.django_db
def test_preview_says_why_a_constraint_rules_out_every_region():
    """Asks would cross, but no region's green share meets the minimum: no fill,
    and each region says so."""
    instrument = make_instrument()
    participant, body = no_region_green_enough(instrument)
    response = client_for(participant).post(PREVIEW, body, format="json")
    assert response.json()["fills"] == []
    assert response.json()["would_rest"] is True
    assert set(verdicts(response).values()) == {
        (False, "green-power share unknown or under the minimum")
    }


@pytest.mark.django_db
def test_preview_of_a_buy_names_the_asks_a_stack_rules_out():
    """A region whose every resting ask runs another stack cannot serve a CUDA-only
    buy; a region with a CUDA ask, or none at all, can."""
    instrument = make_instrument()
    two_sites(instrument)
    body = buy(instrument, "14.00", "3.0", constraints={"stacks": ["CUDA"]})
    response = client_for(make_buyer()).post(PREVIEW, body, format="json")
    found = verdicts(response)
    assert found["CLU-GUIAN"] == (False, "software stack CANN not allowed")
    assert found["CLU-WUHU"] == (True, None)
    assert found["CLU-ZJK"] == (True, None)  # nothing rests there
    assert {f["region"] for f in response.json()["fills"]} == {"CLU-WUHU"}


@pytest.mark.django_db
def test_preview_of_a_sell_names_the_buyers_it_cannot_serve():
    """Beijing's only bid wants CUDA: an Ascend sell cannot serve it, Shanghai's
    can (and fills)."""
    instrument = make_instrument()
    seller, body = a_sell(instrument)
    response = client_for(seller).post(PREVIEW, body, format="json")
    found = verdicts(response)
    assert found["CITY-BJ"] == (False, "software stack CANN not allowed")
    assert found["CITY-SH"] == (True, None)
    [fill] = response.json()["fills"]
    assert (fill["region"], fill["stack"], fill["quantity"]) == (
        "CITY-SH",
        "CANN",
        "5.0",
    )
    assert Decimal(response.json()["bond"]) > 0
    assert response.json()["hold"] == "0.0000"


@pytest.mark.django_db
def test_preview_refuses_in_placements_order_and_words():
    """403 for the wrong role before a 400; a 400 names the field; a used
    client_order_id with another body is the same 409."""
    instrument = make_instrument()
    seller = make_seller()
    api = client_for(seller)
    refused = api.post(PREVIEW, buy(instrument, price="bad"), format="json")
    assert refused.status_code == 403
    buyer = client_for(make_buyer())
    bad = buyer.post(PREVIEW, buy(instrument, price="12.005"), format="json")
    assert (bad.status_code, "price" in error(bad)["fields"]) == (400, True)
    buyer.post(ORDERS, buy(instrument, client_order_id="c-1"), format="json")
    other = buy(instrument, price="11.00", client_order_id="c-1")
    preview = buyer.post(PREVIEW, other, format="json")
    placed = buyer.post(ORDERS, other, format="json")
    assert preview.status_code == placed.status_code == 409
    assert preview.json() == placed.json()


@pytest.mark.django_db
def test_preview_of_a_replay_names_the_order_and_sets_nothing_aside():
    """The same client_order_id and body again: placement would return that order,
    so the preview names it, with its original fills and nothing more held."""
    instrument = make_instrument()
    participant, body = crossing_two_regions(instrument)
    api = client_for(participant)
    order = api.post(ORDERS, body, format="json").json()
    preview = api.post(PREVIEW, body, format="json").json()
    assert preview["replay_of"] == order["id"]
    assert [f["quantity"] for f in preview["fills"]] == [
        f["quantity"] for f in order["fills"]
    ]
    assert (preview["hold"], preview["bond"]) == ("0.0000", "0.0000")


@pytest.mark.django_db
def test_book_copy_leaves_the_warm_book_and_skips_one_checked_out():
    """A copy changes no warm book; while a transaction has the book checked out
    the copy is rebuilt from the database instead (no lock, no torn read)."""
    instrument = make_instrument()
    two_sites(instrument)
    instrument.refresh_from_db()
    warm = books.warm(instrument.symbol)
    rows = book_rows(warm)
    copy = books.book_copy(instrument)
    assert copy is not warm
    assert book_rows(copy) == rows
    copy.cancel(copy.orders()[0].order_id, 0)
    assert book_rows(warm) == rows
    books.book_checkout(instrument)  # as a placement in flight would
    try:
        rebuilt = books.book_copy(instrument)
        assert rebuilt is not books.warm(instrument.symbol)
        assert book_rows(rebuilt) == rows
    finally:
        books.forget_touched()


@pytest.mark.django_db
def test_book_copy_torn_by_a_checkout_that_began_meanwhile_is_dropped(monkeypatch):
    """A placement that checks the book out while the copy is taken may tear it:
    the copy is dropped (even when taking it failed) and the book rebuilt."""
    instrument = make_instrument()
    two_sites(instrument)
    instrument.refresh_from_db()
    rows = book_rows(books.warm(instrument.symbol))
    restore = engine.Book.restore
    calls = []

    def torn(network, orders, sequence):
        calls.append(sequence)
        if len(calls) == 1:  # the copy: a placement checks the book out meanwhile
            books.book_checkout(instrument)
            raise RuntimeError("dictionary changed size during iteration")
        return restore(network, orders, sequence)

    monkeypatch.setattr(engine.Book, "restore", staticmethod(torn))
    try:
        copy = books.book_copy(instrument)
    finally:
        books.forget_touched()
    assert len(calls) == 2  # the torn copy, then the rebuild
    assert copy is not books.warm(instrument.symbol)
    assert book_rows(copy) == rows


def request_of(body: dict) -> OrderRequest:
    numbers = {k: Decimal(body[k]) for k in ("price", "quantity")}
    return OrderRequest(**(body | numbers))


@pytest.mark.django_db(transaction=True)
def test_preview_runs_in_a_read_only_snapshot(catalogue):
    """Outside any transaction the preview reads in a READ ONLY snapshot (where a
    lock or a drawn key would fail): it answers, over the API too, and nothing
    changed."""
    instrument = make_instrument()
    participant, body = crossing_two_regions(instrument)
    api = client_for(participant)
    before = state(instrument)
    preview = order_preview(participant=participant, request=request_of(body))
    response = api.post(PREVIEW, body, format="json")
    assert state(instrument) == before
    assert response.status_code == 200
    assert response.json()["sequence"] == preview.sequence
    assert {f.region for f in preview.fills} == {"CLU-GUIAN", "CLU-WUHU"}
    assert preview.sequence == Instrument.objects.get(pk=instrument.pk).sequence
    placed = place(participant, instrument, "buy", body["quantity"], body["price"])
    assert [f.quantity for f in preview.fills] == [t.quantity for t in placed.fills]
    assert preview.hold == first_set_aside(placed.order.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_preview_waits_on_no_lock(catalogue):
    """While another transaction holds the instrument's row lock (a placement in
    flight), a preview answers at once, as of the sequence committed before."""
    instrument = make_instrument()
    participant, body = crossing_two_regions(instrument)
    committed = Instrument.objects.get(pk=instrument.pk).sequence
    locked, release = threading.Event(), threading.Event()

    def placement_in_flight():
        try:
            with transaction.atomic():
                Instrument.objects.select_for_update().get(pk=instrument.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=placement_in_flight)
    thread.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        preview = order_preview(participant=participant, request=request_of(body))
        assert time.monotonic() - started < 2
    finally:
        release.set()
        thread.join()
    assert preview.sequence == committed
    assert {f.region for f in preview.fills} == {"CLU-GUIAN", "CLU-WUHU"}
