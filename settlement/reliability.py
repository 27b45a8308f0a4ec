"""The reliability score of a provider (DESIGN.md, "Hardware, trust and reliability").

Over the trades a legal entity sold and that settled in the last 90 days, leaving out
those it sold to itself (affiliated participants),

    r = (delivered + 90) / (sold + 90 + 10)        in SCU-h,

a prior of 90 SCU-h delivered out of 100 sold, so a new provider starts at 0.90 and
one trade moves it little. A dispute the provider lost counts its trade's whole
quantity as undelivered; a late report (the first report after the delivery window
ended) counts 10% of the quantity as undelivered, on top of any shortfall.

What one trade counts is fixed when it settles (`Obligation.counted_delivered`), so
a score is one sum over an index; `reliability_refresh` recomputes an entity's score
when one of its trades settles, and the scheduler refreshes every score (trades age
out of the window, an operator may have affiliated participants).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db.models import Count, Q, Sum

from market.models import Participant
from settlement.models import DeliveryReport, Obligation, ProviderScore

PRIOR_DELIVERED = Decimal(90)
PRIOR_UNDELIVERED = Decimal(10)
WINDOW = timedelta(days=90)
LATE_SHARE = Decimal("0.1")
PLACES = Decimal("0.0001")
QTY_PLACES = Decimal("0.01")
NEW_PROVIDER = (PRIOR_DELIVERED / (PRIOR_DELIVERED + PRIOR_UNDELIVERED)).quantize(
    PLACES
)


def reliability(*, delivered: Decimal, sold: Decimal) -> Decimal:
    """The published formula, rounded down to 4 places (so rounding it down to the
    hundredth a sell carries gives the exact value's hundredth)."""
    value = (delivered + PRIOR_DELIVERED) / (sold + PRIOR_DELIVERED + PRIOR_UNDELIVERED)
    return value.quantize(PLACES, ROUND_DOWN)


def counted(ob: Obligation, delivered: Decimal) -> tuple[Decimal, bool, bool]:
    """What the score counts of a trade settling with `delivered`: (delivered as
    counted, dispute lost, late report). Caller holds the obligation's lock."""
    # Lost: after the buyer's dispute, an operator set less than the provider had
    # last reported (or it never reported).
    lost = False
    if ob.resolved_at is not None:
        last = (
            DeliveryReport.objects.filter(obligation=ob)
            .order_by("-pk")
            .values_list("delivered_quantity", flat=True)
            .first()
        )
        lost = last is None or delivered < last
    late = ob.late_report  # set by its first report (settlement.services)
    if lost:
        return Decimal("0.00"), True, late
    if late:
        delivered = max(delivered - LATE_SHARE * ob.quantity, Decimal(0))
    return delivered.quantize(QTY_PLACES), False, late


def entity_members(participant: Participant) -> list[int]:
    """The participants of one legal entity, by key."""
    if not participant.legal_entity:
        return [participant.pk]
    return sorted(
        Participant.objects.filter(legal_entity=participant.legal_entity).values_list(
            "pk", flat=True
        )
    )


@dataclass(frozen=True)
class Figures:
    deliveries: int
    sold: Decimal
    delivered: Decimal
    disputes_lost: int
    late_reports: int

    @property
    def reliability(self) -> Decimal:
        return reliability(delivered=self.delivered, sold=self.sold)


def figures(members: list[int], now: datetime) -> Figures:
    """The entity's trades counted now: settled in the window, sold to others."""
    totals = (
        Obligation.objects.filter(
            seller_id__in=members,
            status=Obligation.Status.SETTLED,
            settled_at__gte=now - WINDOW,
            counted_delivered__isnull=False,
        )
        .exclude(buyer_id__in=members)
        .aggregate(
            deliveries=Count("pk"),
            sold=Sum("quantity"),
            delivered=Sum("counted_delivered"),
            disputes_lost=Count("pk", filter=Q(dispute_lost=True)),
            late_reports=Count("pk", filter=Q(late_report=True)),
        )
    )
    return Figures(
        deliveries=totals["deliveries"],
        sold=Decimal(totals["sold"] or 0),
        delivered=Decimal(totals["delivered"] or 0),
        disputes_lost=totals["disputes_lost"],
        late_reports=totals["late_reports"],
    )


def reliability_refresh(*, participant_id: int, now: datetime) -> list[int]:
    """Recompute the score of the participant's legal entity and store it for each
    of its participants (returned, by key). Runs in the caller's transaction; locks
    the entity's participants (in key order), so two refreshes of one entity never
    interleave."""
    participant = Participant.objects.get(pk=participant_id)
    members = entity_members(participant)
    list(Participant.objects.select_for_update().filter(pk__in=members).order_by("pk"))
    found = figures(members, now)
    for member in members:
        ProviderScore.objects.update_or_create(
            participant_id=member,
            defaults={
                "entity": participant.entity,
                "reliability": found.reliability,
                "deliveries": found.deliveries,
                "sold": found.sold,
                "delivered": found.delivered,
                "disputes_lost": found.disputes_lost,
                "late_reports": found.late_reports,
            },
        )
    return members


def providers_to_refresh() -> list[int]:
    """Every participant that has a score or has sold: what the scheduler
    refreshes (each entity once is enough; refreshing a member refreshes all)."""
    sellers = set(Obligation.objects.values_list("seller_id", flat=True).distinct())
    sellers |= set(ProviderScore.objects.values_list("participant_id", flat=True))
    return sorted(sellers)
