"""The order serializer's bulk path renders exactly what DRF's generic path renders."""

import pytest
from rest_framework import serializers

from exchange.api.serializers import OrderOutput
from exchange.models import Order
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
