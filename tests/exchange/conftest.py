"""Exchange fixtures: an instrument listed for tomorrow, funded buyers and sellers
with clusters, and a `place` helper that goes through the real service."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from exchange.services.instruments import instrument_create
from exchange.services.placement import order_place
from exchange.services.requests import OrderRequest
from market.models import ChipModel, Cluster, Region, WorkloadProfile
from settlement.services import deposit_post
from tests.factories import ParticipantFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
_deposits = iter(range(10**9))


def tomorrow() -> datetime:
    day = timezone.now().astimezone(SHANGHAI).date() + timedelta(days=1)
    return datetime.combine(day, time(0), SHANGHAI)


def fund(participant, amount) -> None:
    if not Decimal(amount):
        return
    with transaction.atomic():
        deposit_post(
            participant=participant, amount=Decimal(amount), key=f"fx:{next(_deposits)}"
        )


def make_instrument(profile="train", opening="12.00", band="20", start=None, **kw):
    """A listed day product when the window is a whole Shanghai day (what indices
    and monitoring count), else an operator's special."""
    start = start or tomorrow()
    hours = kw.pop("hours", None if "minutes" in kw else 24)
    whole_day = hours == 24 and start.astimezone(SHANGHAI).time() == time(0)
    kw.setdefault("product", "day" if whole_day else "special")
    with transaction.atomic():
        return instrument_create(
            profile=WorkloadProfile.objects.get(code=profile),
            delivery_start=start,
            hours=hours,
            opening_price=Decimal(opening) if opening else None,
            price_band_pct=Decimal(band) if band else None,
            **kw,
        )


def make_seller(
    region="CLU-GUIAN",
    chip="huawei-ascend-910b",
    count=64,
    money=1_000_000,
    *,
    verified=True,
    confidential=False,
    certifications="",
    **kw,
):
    """A funded seller with one cluster, verified by an operator as declared
    unless `verified=False`."""
    seller = ParticipantFactory(
        is_buyer=kw.pop("is_buyer", False),
        is_seller=True,
        home_region=Region.objects.get(code=region),
        **kw,
    )
    fund(seller, money)
    cluster = Cluster.objects.create(
        participant=seller,
        name=f"c{seller.pk}",
        region=Region.objects.get(code=region),
        chip=ChipModel.objects.get(code=chip),
        count=count,
        confidential=confidential,
        certifications=certifications,
        verified_at=timezone.now() if verified else None,
        verified_count=count if verified else None,
        verified_confidential=confidential and verified,
        verified_certifications=certifications if verified else "",
    )
    seller.cluster = cluster
    return seller


def make_buyer(region="CITY-SH", money=1_000_000, **kw):
    buyer = ParticipantFactory(
        is_buyer=True,
        is_seller=kw.pop("is_seller", False),
        home_region=Region.objects.get(code=region),
        **kw,
    )
    fund(buyer, money)
    return buyer


def place(participant, instrument, side, quantity, price=None, **kw):
    if side == "sell" and "cluster" not in kw:
        kw["cluster"] = participant.cluster.pk
    request = OrderRequest(
        instrument=instrument.symbol,
        side=side,
        quantity=Decimal(str(quantity)),
        price=None if price is None else Decimal(str(price)),
        **kw,
    )
    return order_place(participant=participant, request=request)


@pytest.fixture
def instrument(db):
    return make_instrument()


@pytest.fixture
def buyer(db):
    return make_buyer()


@pytest.fixture
def seller(db):
    return make_seller()
