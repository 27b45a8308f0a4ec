"""The national monitoring counts the market, not tests: an operator's special
instrument (a drill) adds nothing to what regions listed or sold."""

from decimal import Decimal

import pytest

from exchange.monitoring.regions import national_view
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place

pytestmark = pytest.mark.django_db


def test_monitoring_leaves_out_special_instruments():
    day = make_instrument()
    special = make_instrument(product="special", symbol="DRILL-1")
    seller, buyer = make_seller("CLU-GUIAN"), make_buyer("CLU-GUIAN")
    for inst, qty in ((day, "3.0"), (special, "7.0")):
        place(seller, inst, "sell", qty, "10.00")
        place(buyer, inst, "buy", qty, "10.00")
    guian = next(
        row.tally
        for row in national_view(days=30).regions
        if row.subject.code == "CLU-GUIAN"
    )
    assert (guian.listed, guian.sold) == (Decimal("3.0"), Decimal("3.0"))
