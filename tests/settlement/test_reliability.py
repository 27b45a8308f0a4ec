"""The reliability score on a made-up history, against the published formula
r = (delivered + 90) / (sold + 90 + 10) over trades settled in the last 90 days:
full and partial deliveries, a lost dispute (its whole quantity undelivered), a late
report (10% of its quantity), affiliated participants (one entity, one score, their
trades with each other left out), and a new provider (the prior, 0.90)."""

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from market.models import Participant
from settlement import services
from settlement.interface import reliability_reads
from settlement.models import ProviderScore
from settlement.reliability import reliability, reliability_refresh
from tests.factories import ParticipantFactory
from tests.settlement.helpers import deposit, trade

pytestmark = pytest.mark.django_db
_ids = iter(range(1, 10**6))


def published(delivered: str, sold: str) -> Decimal:
    """The formula as the page states it, rounded down to 4 places."""
    value = (Decimal(delivered) + 90) / (Decimal(sold) + 90 + 10)
    return value.quantize(Decimal("0.0001"), ROUND_DOWN)


@pytest.fixture
def people():
    seller, buyer = ParticipantFactory(is_seller=True), ParticipantFactory()
    deposit(buyer, 10**7)
    deposit(seller, 10**6)
    return seller, buyer


def sold(seller, buyer, quantity, *, delivered=None, when=None, dispute=None):
    """One trade of `quantity`, reported `delivered` at `when` (hours after the
    window start; None: never reported), disputed and resolved at `dispute` if
    given, then settled. Returns its obligation."""
    trade_id = next(_ids)
    start = timezone.now() - timedelta(days=2)
    with transaction.atomic():
        ob = trade(
            buyer=buyer,
            seller=seller,
            trade_id=trade_id,
            quantity=quantity,
            price="10.00",
            start=start,
        )
    if delivered is not None:
        with transaction.atomic():
            services.delivery_report(
                participant=seller,
                trade_id=trade_id,
                delivered=Decimal(delivered),
                now=start + timedelta(hours=when or 1),
            )
    if dispute is not None:
        _dispute(buyer, trade_id, start, Decimal(dispute))
    with transaction.atomic():
        assert services.trade_settle(trade_id=trade_id, now=ob.confirm_deadline)
    ob.refresh_from_db()
    return ob


def _dispute(buyer, trade_id, start, resolved) -> None:
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.create_user(f"op{trade_id}", is_staff=True)
    with transaction.atomic():
        services.delivery_dispute(
            participant=buyer, trade_id=trade_id, now=start + timedelta(hours=25)
        )
        services.dispute_resolve(
            trade_id=trade_id,
            delivered=resolved,
            resolved_by=operator,
            now=start + timedelta(hours=26),
        )


def score_of(participant) -> ProviderScore:
    return ProviderScore.objects.get(participant=participant)


def test_full_delivery_when_settled_raises_the_score_by_the_formula(people):
    seller, buyer = people
    sold(seller, buyer, "100.0", delivered="100.0")
    score = score_of(seller)
    assert score.reliability == published("100", "100") == Decimal("0.9500")
    assert (score.deliveries, score.sold, score.delivered) == (1, 100, 100)


def test_partial_delivery_when_settled_counts_what_was_delivered(people):
    seller, buyer = people
    sold(seller, buyer, "100.0", delivered="100.0")
    sold(seller, buyer, "200.0", delivered="50.0")
    assert score_of(seller).reliability == published("150", "300")  # 0.6000


def test_unreported_delivery_when_settled_counts_as_nothing_delivered(people):
    seller, buyer = people
    sold(seller, buyer, "50.0")
    assert score_of(seller).reliability == published("0", "50")


def test_lost_dispute_when_settled_counts_the_whole_quantity_undelivered(people):
    """The provider reported 100, the operator set 80 after the buyer's dispute:
    the score counts none of it delivered (payment still follows the 80)."""
    seller, buyer = people
    ob = sold(seller, buyer, "100.0", delivered="100.0", dispute="80.0")
    assert ob.delivered_quantity == Decimal("80.0")
    assert ob.dispute_lost
    score = score_of(seller)
    assert score.reliability == published("0", "100") == Decimal("0.4500")
    assert score.disputes_lost == 1


def test_won_dispute_when_settled_counts_as_delivered(people):
    seller, buyer = people
    sold(seller, buyer, "100.0", delivered="100.0", dispute="100.0")
    assert score_of(seller).reliability == published("100", "100")
    assert score_of(seller).disputes_lost == 0


def test_late_report_when_first_made_after_the_window_counts_ten_percent_short(
    people,
):
    seller, buyer = people
    ob = sold(seller, buyer, "100.0", delivered="100.0", when=25)  # window: 24 h
    assert ob.late_report
    score = score_of(seller)
    assert score.reliability == published("90", "100")
    assert score.late_reports == 1


def test_new_provider_when_it_has_no_trades_is_at_the_prior(people):
    seller, _buyer = people
    assert not ProviderScore.objects.filter(participant=seller).exists()
    with transaction.atomic():
        reliability_refresh(participant_id=seller.pk, now=timezone.now())
    assert score_of(seller).reliability == Decimal("0.9000")
    assert reliability(delivered=Decimal(0), sold=Decimal(0)) == Decimal("0.9000")


def test_sells_when_placed_take_the_score_rounded_down_or_the_prior(people):
    """What placement reads: the current score to the hundredth below, and 0.90
    for a provider without one."""
    from core.db import read_now

    seller, buyer = people
    sold(seller, buyer, "100.0", delivered="95.0")  # 185/200 = 0.925
    newcomer = ParticipantFactory(is_seller=True)
    got = read_now(reliability_reads({seller.pk, newcomer.pk}))
    assert got == {seller.pk: Decimal("0.92"), newcomer.pk: Decimal("0.90")}


def test_affiliated_participants_when_one_entity_share_one_score(people):
    """Two participants of one legal entity have one score over both their sales,
    and what they sold each other does not count."""
    seller, buyer = people
    sister = ParticipantFactory(is_seller=True, is_buyer=True)
    deposit(sister, 10**7)
    Participant.objects.filter(pk__in=[seller.pk, sister.pk]).update(
        legal_entity="acme-cloud"
    )
    seller.refresh_from_db()
    sister.refresh_from_db()
    sold(seller, buyer, "100.0", delivered="100.0")
    sold(sister, buyer, "100.0", delivered="0.0")
    sold(seller, sister, "500.0", delivered="0.0")  # to itself: left out
    expected = published("100", "200")
    assert score_of(seller).reliability == score_of(sister).reliability == expected
    assert score_of(seller).entity == "acme-cloud"
    assert score_of(seller).deliveries == 2


def test_old_trades_when_past_90_days_leave_the_score(people):
    seller, buyer = people
    ob = sold(seller, buyer, "100.0", delivered="0.0")
    with transaction.atomic():
        reliability_refresh(
            participant_id=seller.pk, now=ob.settled_at + timedelta(days=91)
        )
    assert score_of(seller).reliability == Decimal("0.9000")
