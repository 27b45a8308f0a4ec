"""Market data fixtures: an instrument with one buy and one sell order, and a helper
that writes trades between them directly (with chosen times, prices and sequences),
so candle tests can make many trades quickly. Orders and trades through the real
services come from tests/exchange/conftest.py."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from exchange.models import Instrument, Order, Trade
from market.models import ChipModel, Cluster, Region
from tests.exchange.conftest import make_instrument
from tests.factories import ParticipantFactory

_symbols = itertools.count(1)


class Market:
    """An instrument and the two orders its synthetic trades hang on."""

    def __init__(
        self,
        profile: str = "train",
        chip: str = "nvidia-a100-80gb-sxm",
        sell_region: str = "CLU-GUIAN",
        buy_region: str = "CITY-SH",
        product: str = "day",
    ) -> None:
        self.instrument: Instrument = make_instrument(
            profile=profile, symbol=f"MD-{next(_symbols)}", product=product
        )
        seller = ParticipantFactory(is_buyer=False)
        self.buyer = ParticipantFactory(
            is_seller=False, home_region=Region.objects.get(code=buy_region)
        )
        cluster = Cluster.objects.create(
            participant=seller,
            name="md",
            region=Region.objects.get(code=sell_region),
            chip=ChipModel.objects.get(code=chip),
            count=1000,
        )
        common = {
            "instrument": self.instrument,
            "type": Order.Type.LIMIT,
            "time_in_force": Order.TimeInForce.GTC,
            "price": Decimal("12.00"),
            "quantity": Decimal("1.0"),
            "remaining_quantity": Decimal("1.0"),
            "conversion_version": 1,
            "surcharge_version": 1,
        }
        self.sell = Order.objects.create(
            participant=seller,
            side=Order.Side.SELL,
            cluster=cluster,
            region=cluster.region,
            stack=cluster.chip.stack,
            **common,
        )
        self.buy = Order.objects.create(
            participant=self.buyer,
            side=Order.Side.BUY,
            region=self.buyer.home_region,
            **common,
        )
        self.sequence = 0

    def trades(self, rows, *, start=None) -> list[Trade]:
        """rows: (seconds after `start`, price, quantity); sequences follow the
        rows' order, with gaps (other book events take numbers too)."""
        start = start or timezone.now() - timedelta(days=1)
        made = []
        for seconds, price, quantity in rows:
            self.sequence += 2
            price, quantity = Decimal(str(price)), Decimal(str(quantity))
            made.append(
                Trade(
                    instrument=self.instrument,
                    buy_order=self.buy,
                    sell_order=self.sell,
                    buyer=self.buy.participant,
                    seller=self.sell.participant,
                    price=price,
                    surcharge=Decimal("0.30"),
                    all_in_price=price + Decimal("0.30"),
                    quantity=quantity,
                    aggressor=Trade.Aggressor.BUY,
                    buyer_fee=Decimal(0),
                    seller_fee=Decimal(0),
                    sell_region=self.sell.region,
                    buy_region=self.buy.region,
                    sequence=self.sequence,
                    executed_at=start + timedelta(seconds=seconds),
                )
            )
        return Trade.objects.bulk_create(made)


@pytest.fixture
def market(db):
    return Market()
