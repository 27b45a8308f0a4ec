"""Products in time: the listing plan lists each profile's day and its blocks
(`TRAIN-20261208-B0004`), each an instrument with its own window, band reference,
gate and settlement; a cluster's capacity is per instant across a day and its
blocks; a product's settlement price is the VWAP of its trades, fixed at the gate."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from exchange.exceptions import InsufficientCapacity, InvalidOrder
from exchange.models import Instrument, ListingPlan
from exchange.models.listing import parse_blocks
from exchange.services import instruments as lifecycle
from market.models import WorkloadProfile
from settlement import services as delivery
from tests.exchange.conftest import SHANGHAI, make_buyer, make_seller, place

pytestmark = pytest.mark.django_db
BLOCKS = ["00-04", "04-08", "08-12", "12-16", "16-20", "20-24"]


def listed(days: int = 1) -> dict[str, Instrument]:
    """List the coming `days` (settings: six 4-hour blocks for train and infer)."""
    lifecycle.instruments_list(days=days)
    return {i.symbol: i for i in Instrument.objects.all()}


def day_of(offset: int = 1) -> datetime:
    today = timezone.now().astimezone(SHANGHAI).date()
    return datetime.combine(today + timedelta(days=offset), time(0), SHANGHAI)


def symbols(prefix: str, day: datetime) -> list[str]:
    stamp = f"{prefix}-{day:%Y%m%d}"
    return [stamp] + [f"{stamp}-B{b[:2]}{b[3:]}" for b in BLOCKS]


def test_plan_lists_days_and_blocks_with_their_windows_symbols_and_gates():
    """Train and infer get the day and six blocks; the other profiles the day. A
    block's window, gate and scaled deadlines are its own; listing is idempotent."""
    got = listed()
    day = day_of(1)
    for prefix in ("TRAIN", "INFER"):
        assert set(symbols(prefix, day)) <= set(got)
    assert f"HPC-{day:%Y%m%d}" in got
    assert not any(s.startswith("HPC-") and "-B" in s for s in got)
    block = got[f"TRAIN-{day:%Y%m%d}-B0004"]
    assert (block.product, block.block) == ("block", "00-04")
    assert block.delivery_start == block.gate_closure_at == day
    assert block.delivery_end == day + timedelta(hours=4)
    # A day's deadlines scaled to 4 hours of 24: 2 h -> 20 min, 24 h -> 4 h.
    assert (block.report_deadline, block.confirm_grace) == (
        timedelta(minutes=20),
        timedelta(hours=4),
    )
    whole = got[f"TRAIN-{day:%Y%m%d}"]
    assert (whole.product, whole.block) == ("day", None)
    assert lifecycle.instruments_list(days=1) == []


def test_a_listing_plan_in_admin_overrides_the_settings():
    """A plan row lists exactly its blocks (and no day when told so)."""
    hpc = WorkloadProfile.objects.get(code="hpc")
    ListingPlan.objects.create(profile=hpc, list_day=False, blocks="00-12,12-24")
    got = listed()
    day = day_of(1)
    assert {s for s in got if s.startswith("HPC-")} == {
        f"HPC-{day:%Y%m%d}-B0012",
        f"HPC-{day:%Y%m%d}-B1224",
    }


@pytest.mark.parametrize("text", ["00-04,03-08", "04-08,00-04", "00-25", "0-4", "x"])
def test_plan_blocks_must_be_ordered_hours_within_the_day(text):
    with pytest.raises(ValidationError):
        parse_blocks(text)


def test_a_block_must_fit_its_window():
    """The service refuses a block whose window is not its hours."""
    with pytest.raises(InvalidOrder), transaction.atomic():
        lifecycle.instrument_create(
            profile=WorkloadProfile.objects.get(code="train"),
            delivery_start=day_of(1),
            hours=3,
            product="block",
            block="00-04",
        )


def test_a_block_opens_at_the_last_price_of_the_same_block_a_day_at_the_days():
    """Tomorrow's 00-04 last traded at 9.00 and the day at 11.00: the day after,
    00-04 opens at 9.00, 04-08 (never traded) at the day's 11.00, the day at 11.00."""
    got = listed()
    first = day_of(1)
    Instrument.objects.filter(symbol=f"TRAIN-{first:%Y%m%d}-B0004").update(
        last_price=Decimal("9.00")
    )
    Instrument.objects.filter(symbol=f"TRAIN-{first:%Y%m%d}").update(
        last_price=Decimal("11.00")
    )
    got = listed(days=2)
    second = day_of(2)
    opening = {s: got[s].opening_price for s in symbols("TRAIN", second)}
    assert opening[f"TRAIN-{second:%Y%m%d}-B0004"] == Decimal("9.00")
    assert opening[f"TRAIN-{second:%Y%m%d}-B0408"] == Decimal("11.00")
    assert opening[f"TRAIN-{second:%Y%m%d}"] == Decimal("11.00")


def _seller(count: int):
    return make_seller("CLU-GUIAN", "nvidia-a100-80gb-sxm", count=count)


def test_a_cluster_whose_day_is_sold_cannot_sell_a_block_of_it():
    """10 A100 chips (factor 1): the day holds 240 SCU-h; sold, no block of the day
    has a chip left, while the same chips on another day are free."""
    got, day = listed(days=2), day_of(1)
    seller = _seller(10)
    place(seller, got[f"TRAIN-{day:%Y%m%d}"], "sell", "240.0", "10.00")
    with pytest.raises(InsufficientCapacity, match="0 of 10 chips free"):
        place(seller, got[f"TRAIN-{day:%Y%m%d}-B0408"], "sell", "0.1", "10.00")
    other = day_of(2)
    assert place(seller, got[f"TRAIN-{other:%Y%m%d}-B0408"], "sell", "40.0", "10.00")


def test_a_cluster_whose_block_is_sold_cannot_sell_its_day_but_another_block():
    """The block 04-08 takes all 10 chips (40 SCU-h): the day cannot take even one
    lot, the next block can take its 40 SCU-h, and half the chips free on the day
    are half a day's SCU-h."""
    got, day = listed(), day_of(1)
    seller = _seller(10)
    place(seller, got[f"TRAIN-{day:%Y%m%d}-B0408"], "sell", "40.0", "10.00")
    with pytest.raises(InsufficientCapacity):
        place(seller, got[f"TRAIN-{day:%Y%m%d}"], "sell", "0.1", "10.00")
    assert place(seller, got[f"TRAIN-{day:%Y%m%d}-B0812"], "sell", "40.0", "10.00")
    half = _seller(10)
    place(half, got[f"TRAIN-{day:%Y%m%d}-B0004"], "sell", "20.0", "10.00")
    assert place(half, got[f"TRAIN-{day:%Y%m%d}"], "sell", "120.0", "10.00")
    with pytest.raises(InsufficientCapacity):
        place(half, got[f"TRAIN-{day:%Y%m%d}-B0004"], "sell", "0.1", "10.00")


def test_blocks_close_at_their_own_gates_and_fix_their_settlement_price():
    """At midnight the day and 00-04 close, 04-08 still trades; at 04:00 it closes.
    00-04 traded 3.0 at 10.00 and 1.0 at 10.05: its settlement price is the VWAP
    10.0125, half-up to the tick: 10.01. A product without trades has none."""
    got, day = listed(), day_of(1)
    seller, buyer = _seller(100), make_buyer("CLU-GUIAN")
    b0004 = got[f"TRAIN-{day:%Y%m%d}-B0004"]
    place(seller, b0004, "sell", "3.0", "10.00")
    place(seller, b0004, "sell", "1.0", "10.05")
    place(buyer, b0004, "buy", "4.0", "10.05")
    closed = lifecycle.instruments_close_run(now=day)
    assert b0004.symbol in closed
    assert f"TRAIN-{day:%Y%m%d}" in closed
    assert f"TRAIN-{day:%Y%m%d}-B0408" not in closed
    state = dict(Instrument.objects.values_list("symbol", "state"))
    assert state[f"TRAIN-{day:%Y%m%d}-B0408"] == "open"
    b0004.refresh_from_db()
    assert (b0004.state, b0004.settlement_price) == ("closed", Decimal("10.01"))
    assert Instrument.objects.get(symbol=f"TRAIN-{day:%Y%m%d}").settlement_price is None
    later = lifecycle.instruments_close_run(now=day + timedelta(hours=4))
    assert f"TRAIN-{day:%Y%m%d}-B0408" in later


def test_a_block_settles_on_its_own_before_the_day():
    """A trade in 00-04 and one in the day: after 00-04's deadlines its trade
    settles and the block is settled, while the day, still delivering, is not."""
    got, day = listed(), day_of(1)
    seller, buyer = _seller(100), make_buyer("CLU-GUIAN")
    block, whole = got[f"TRAIN-{day:%Y%m%d}-B0004"], got[f"TRAIN-{day:%Y%m%d}"]
    for inst in (block, whole):
        place(seller, inst, "sell", "10.0", "10.00")
        [trade] = place(buyer, inst, "buy", "10.0", "10.00").fills
        inst.trade = trade
    lifecycle.instruments_close_run(now=day)
    with transaction.atomic():
        delivery.delivery_report(
            participant=seller,
            trade_id=block.trade.pk,
            delivered=Decimal("10.0"),
            now=block.delivery_end,
        )
    settled = lifecycle.instruments_settle_run(now=block.confirm_deadline_at)
    assert block.symbol in settled
    assert whole.symbol not in settled
    assert Instrument.objects.get(pk=whole.pk).state == "closed"


def test_instrument_api_names_product_block_and_settlement_price():
    from rest_framework.test import APIClient

    listed()
    day = day_of(1)
    rows = APIClient().get("/api/v1/instruments/", {"profile": "train"}).json()
    by_symbol = {r["symbol"]: r for r in rows["results"]}
    block = by_symbol[f"TRAIN-{day:%Y%m%d}-B2024"]
    assert (block["product"], block["block"], block["settlement_price"]) == (
        "block",
        "20-24",
        None,
    )
    assert by_symbol[f"TRAIN-{day:%Y%m%d}"]["product"] == "day"
