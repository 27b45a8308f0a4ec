"""Force majeure (DESIGN.md "Operators"): a trade delivered in a region that was
suspended during its window owes no shortfall penalty for the overlap, the buyer is
refunded the undelivered part as always, and the provider's reliability score
leaves the trade out."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from market.models import Region, RegionSuspension
from settlement import services
from settlement.models import Obligation, ProviderScore
from tests.factories import ParticipantFactory
from tests.operators import assert_reconciled, staff
from tests.settlement.helpers import balance, deposit, trade

pytestmark = pytest.mark.django_db


@pytest.fixture
def parties():
    buyer, seller = ParticipantFactory(), ParticipantFactory()
    deposit(buyer, 10_000)
    deposit(seller, 1_000)
    return buyer, seller


def suspend(region, start, end, operator):
    return RegionSuspension.objects.create(
        region=region,
        reason="grid fault",
        started_at=start,
        started_by=operator,
        ended_at=end,
        ended_by=operator if end else None,
    )


def settle_undelivered(buyer, seller, trade_id, region):
    """A trade of 10 SCU-h at 10.00 with a 10.00 bond, nothing delivered, settled."""
    ob = trade(
        buyer=buyer,
        seller=seller,
        trade_id=trade_id,
        quantity="10.0",
        price="10.00",
        region=region,
    )
    with transaction.atomic():
        assert services.trade_settle(trade_id=trade_id, now=ob.confirm_deadline)
    return Obligation.objects.get(trade_id=trade_id)


def test_the_suspended_quarter_of_the_window_is_excused(parties):
    buyer, seller = parties
    guian = Region.objects.get(code="CLU-GUIAN")
    ob = trade(
        buyer=buyer,
        seller=seller,
        trade_id=1,
        quantity="10.0",
        price="10.00",
        region=guian,
    )
    six_hours = ob.delivery_start + timedelta(hours=6)
    suspend(guian, ob.delivery_start - timedelta(hours=1), six_hours, staff("op"))
    before = balance(buyer)
    with transaction.atomic():
        services.trade_settle(trade_id=1, now=ob.confirm_deadline)
    settled = Obligation.objects.get(trade_id=1)
    assert settled.excused_quantity == Decimal("2.50")
    # Refund: 100.00 and the unused fee; penalty: the bond for 7.5 of 10 SCU-h.
    refund = Decimal("100.00") + ob.buyer_fee_escrowed
    assert balance(buyer) - before == refund + Decimal("7.5000")
    assert balance(seller, "bond") == 0
    assert settled.counted_delivered is None
    assert_reconciled()


def test_without_a_suspension_the_whole_bond_pays_the_shortfall(parties):
    buyer, seller = parties
    before = balance(buyer)
    guian = Region.objects.get(code="CLU-GUIAN")
    ob = settle_undelivered(buyer, seller, 2, guian)
    assert ob.excused_quantity is None
    assert balance(buyer) - before == 10  # all back, and the whole bond
    assert ob.counted_delivered == Decimal("0.00")


def test_a_suspension_elsewhere_or_outside_the_window_excuses_nothing(parties):
    buyer, seller = parties
    guian, wuhu = (Region.objects.get(code=c) for c in ("CLU-GUIAN", "CLU-WUHU"))
    operator = staff("op")
    probe = trade(
        buyer=buyer,
        seller=seller,
        trade_id=3,
        quantity="10.0",
        price="10.00",
        region=guian,
    )
    suspend(wuhu, probe.delivery_start, None, operator)  # another region, open
    suspend(
        guian,
        probe.delivery_start - timedelta(days=2),
        probe.delivery_start - timedelta(days=1),
        operator,
    )  # before the window
    with transaction.atomic():
        services.trade_settle(trade_id=3, now=probe.confirm_deadline)
    assert Obligation.objects.get(trade_id=3).excused_quantity is None


def test_an_open_suspension_excuses_the_rest_of_the_window_and_the_score_skips_it(
    parties,
):
    buyer, seller = parties
    guian = Region.objects.get(code="CLU-GUIAN")
    ob = trade(
        buyer=buyer,
        seller=seller,
        trade_id=4,
        quantity="10.0",
        price="10.00",
        region=guian,
    )
    suspend(guian, ob.delivery_start + timedelta(hours=12), None, staff("op"))
    before = balance(buyer)
    with transaction.atomic():
        services.trade_settle(trade_id=4, now=ob.confirm_deadline)
    settled = Obligation.objects.get(trade_id=4)
    assert settled.excused_quantity == Decimal("5.00")
    assert balance(buyer) - before == Decimal("100.00") + ob.buyer_fee_escrowed + 5
    score = ProviderScore.objects.filter(participant=seller).first()
    assert score is None or score.deliveries == 0  # a new provider's score
    assert_reconciled()
