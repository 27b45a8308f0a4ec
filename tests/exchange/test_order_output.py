"""The order and fill serializers' bulk path renders exactly what DRF's generic path
renders."""

import pytest
from rest_framework import serializers

from exchange.api.serializers import FillOutput, OrderOutput
from exchange.marketdata.carbon import trades_carbon_kg
from exchange.models import Order, Trade
from exchange.selectors import fill_view
from tests.exchange.conftest import place

pytestmark = pytest.mark.django_db


class GenericOrderOutput(OrderOutput):
    """The reference: DRF's own Serializer.to_representation."""

    def to_representation(self, instance):
        data = serializers.Serializer.to_representation(self, instance)
        if not instance.constraints:
            data["constraints"] = None
        return data


def test_bulk_path_matches_drf_for_every_kind_of_order(instrument, buyer, seller):
    place(seller, instrument, "sell", "10.0", "12.00")  # rests, then half filled
    place(buyer, instrument, "buy", "5.0", "12.00", client_order_id="b-1")  # filled
    place(
        buyer,
        instrument,
        "buy",
        "3.0",
        "11.50",
        constraints={"stacks": ["CUDA"], "max_latency_ms": 40, "min_green_share": None},
    )
    place(buyer, instrument, "buy", "2.0", type="market", time_in_force="IOC")
    orders = list(Order.objects.all())
    assert {o.status for o in orders} >= {"partially_filled", "filled", "open"}
    assert any(o.stack_id is None for o in orders)
    assert any(o.constraints for o in orders)
    fast, reference = OrderOutput(), GenericOrderOutput()
    for order in orders:
        assert fast.to_representation(order) == reference.to_representation(order)


class GenericFillOutput(FillOutput):
    """The reference: DRF's own Serializer.to_representation of the fill's view."""

    def to_representation(self, instance):
        carbon_kg = instance.carbon_kg
        view = fill_view(instance, self.context["participant_id"]) | {
            "carbon_kg": carbon_kg
        }
        return serializers.Serializer.to_representation(self, view)


def test_fills_bulk_path_matches_drf_for_both_sides(instrument, buyer, seller):
    place(seller, instrument, "sell", "10.0", "12.00")
    place(buyer, instrument, "buy", "4.0", "14.00")  # the buyer takes
    place(buyer, instrument, "buy", "3.0", "11.00")
    place(seller, instrument, "sell", "2.0", "10.00")  # the seller takes
    trades = list(Trade.objects.select_related("instrument").order_by("pk"))
    assert len(trades) == 2
    carbon = trades_carbon_kg([t.pk for t in trades])
    for participant in (buyer, seller):
        context = {"participant_id": participant.pk}
        fast = FillOutput(trades, many=True, context=context).data
        for trade in trades:
            trade.carbon_kg = carbon.get(trade.pk)
        reference = [
            GenericFillOutput(context=context).to_representation(t) for t in trades
        ]
        assert [dict(f) for f in fast] == reference
        assert {f["liquidity"] for f in fast} == {"maker", "taker"}
