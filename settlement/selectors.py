"""Reads of settlement for the API and pages: a participant's balances, ledger
postings, withdrawal requests and delivery obligations, and the providers'
reliability scores."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Min, OuterRef, Q, QuerySet, Subquery

from market.models import Participant
from settlement.ledger import LedgerSnapshot
from settlement.models import (
    Account,
    DeliveryReport,
    Obligation,
    Posting,
    ProviderScore,
    WithdrawalRequest,
)
from settlement.reliability import NEW_PROVIDER, PLACES

CURRENCY = "CNY"


def account_balances(*, participant: Participant) -> dict:
    """available, held (escrow for open buys), bond (seller collateral),
    withdrawal_pending (requested, not yet paid out), and in_escrow: what the
    participant's unsettled purchases hold in escrow (all-in amount and fee).
    Summed in Python: SQLite would add decimals as floats."""
    balances = dict(
        Account.objects.filter(
            participant=participant, kind__in=Account.PARTICIPANT_KINDS
        ).values_list("kind", "balance")
    )
    escrowed = Obligation.objects.filter(buyer=participant).exclude(
        status=Obligation.Status.SETTLED
    )
    in_escrow = sum(
        (a + f for a, f in escrowed.values_list("escrow_amount", "buyer_fee_escrowed")),
        Decimal(0),
    )
    zero = Decimal("0.0000")
    return {
        "currency": CURRENCY,
        "available": balances.get(Account.Kind.AVAILABLE, zero),
        "held": balances.get(Account.Kind.HELD, zero),
        "bond": balances.get(Account.Kind.BOND, zero),
        "withdrawal_pending": balances.get(Account.Kind.WITHDRAWAL_PENDING, zero),
        "in_escrow": in_escrow,
    }


def withdrawal_list(
    *, participant: Participant, status: str | None = None
) -> QuerySet[WithdrawalRequest]:
    """The participant's withdrawal requests, newest first."""
    requests = WithdrawalRequest.objects.filter(participant=participant)
    if status is not None:
        requests = requests.filter(status=status)
    return requests.order_by("-pk")


def posting_list(
    *, participant: Participant, account: str | None = None
) -> QuerySet[Posting]:
    postings = Posting.objects.filter(account__participant=participant).select_related(
        "entry", "account"
    )
    if account is not None:
        postings = postings.filter(account__kind=account)
    return postings


def obligation_list(
    *,
    participant: Participant,
    status: str | None = None,
    instrument: str | None = None,
    role: str | None = None,
) -> QuerySet[Obligation]:
    """The trades the participant bought (role buyer) or sold (seller)."""
    if role == "buyer":
        mine = Q(buyer=participant)
    elif role == "seller":
        mine = Q(seller=participant)
    else:
        mine = Q(buyer=participant) | Q(seller=participant)
    obligations = Obligation.objects.filter(mine)
    if status is not None:
        obligations = obligations.filter(status=status)
    if instrument is not None:
        obligations = obligations.filter(instrument=instrument)
    return obligations


def available_balance(participant_id: int) -> Decimal:
    """A participant's available balance, read as placement reads it."""
    snapshot = LedgerSnapshot.read({participant_id})
    return snapshot.available().get(participant_id, Decimal("0.0000"))


def due_obligations(now: datetime) -> QuerySet[Obligation]:
    """Trades that settle now: confirmed and past their window, or unconfirmed and
    past the confirmation deadline (silence counts as confirmation)."""
    return Obligation.objects.filter(
        Q(status=Obligation.Status.CONFIRMED, delivery_end__lte=now)
        | Q(
            status__in=[Obligation.Status.PENDING, Obligation.Status.REPORTED],
            confirm_deadline__lte=now,
        )
    )


def due_trade_ids(now: datetime) -> list[int]:
    return list(due_obligations(now).values_list("trade_id", flat=True))


def unsettled_exists(instrument: str) -> bool:
    """Whether any trade of the instrument is not settled yet."""
    return (
        Obligation.objects.filter(instrument=instrument)
        .exclude(status=Obligation.Status.SETTLED)
        .exists()
    )


def delivered_quantity_subquery() -> Subquery:
    """The delivered quantity settlement knows of the outer query's trade (`pk`),
    None until reported."""
    return Subquery(
        Obligation.objects.filter(trade_id=OuterRef("pk")).values("delivered_quantity")[
            :1
        ]
    )


def settlement_lag_seconds(now: datetime) -> float:
    """Age of the oldest trade that should have settled and has not: past its
    delivery window and the grace after it (its confirmation deadline), or confirmed
    and past its window (the rule settlement's sweeper uses). Disputed trades wait
    for an operator and are left out. 0 when nothing is late."""
    open_ = Obligation.objects.exclude(
        status__in=[Obligation.Status.SETTLED, Obligation.Status.DISPUTED]
    )
    unconfirmed = open_.filter(
        status__in=[Obligation.Status.PENDING, Obligation.Status.REPORTED],
        confirm_deadline__lte=now,
    ).aggregate(due=Min("confirm_deadline"))["due"]
    confirmed = open_.filter(
        status=Obligation.Status.CONFIRMED, delivery_end__lte=now
    ).aggregate(due=Min("delivery_end"))["due"]
    due = [d for d in (unconfirmed, confirmed) if d is not None]
    return (now - min(due)).total_seconds() if due else 0.0


def disputes_open() -> int:
    """Trades whose buyer disputed the delivery: they wait for an operator."""
    return Obligation.objects.filter(status=Obligation.Status.DISPUTED).count()


def providers_list() -> list[dict]:
    """Every provider (a legal entity with a seller among its participants) with
    its current reliability score and what it rests on: the trades counted, the
    share of their SCU-h delivered as counted (None before any), the disputes it
    lost. A provider without a score yet is at the prior. By handle."""
    scores = {s.participant_id: s for s in ProviderScore.objects.all()}
    found: dict[str, ProviderScore | None] = {}
    for participant in Participant.objects.filter(is_seller=True).order_by("pk"):
        entity = participant.entity  # its members share one score
        found[entity] = found.get(entity) or scores.get(participant.pk)
    return [_provider_row(code, score) for code, score in sorted(found.items())]


def _provider_row(code: str, score) -> dict:
    if score is None:
        return {
            "code": code,
            "reliability": NEW_PROVIDER,
            "deliveries": 0,
            "delivered_share": None,
            "disputes_lost": 0,
            "late_reports": 0,
        }
    share = (score.delivered / score.sold).quantize(PLACES) if score.sold else None
    return {
        "code": code,
        "reliability": score.reliability,
        "deliveries": score.deliveries,
        "delivered_share": share,
        "disputes_lost": score.disputes_lost,
        "late_reports": score.late_reports,
    }


# Delivery and settlement events of the private stream, in this order at one instant.
OBLIGATION_CHANGES = ("reported", "confirmed", "disputed", "settled")


def obligation_events(
    *, participant_ids, since: datetime, until: datetime
) -> list[tuple]:
    """What happened to these participants' obligations in (since, until]: each
    delivery report, confirmation, dispute and settlement as `(at, rank, id,
    obligation, change, delivered)`, in (at, rank, id) order; `id` is the report's
    for a report, else the trade's."""
    theirs = Q(buyer_id__in=participant_ids) | Q(seller_id__in=participant_ids)
    stamped = Q()
    for change in OBLIGATION_CHANGES[1:]:
        stamped |= Q(**{f"{change}_at__gt": since, f"{change}_at__lte": until})
    out = [
        (at, rank, o.trade_id, o, change, o.delivered_quantity)
        for o in Obligation.objects.filter(theirs).filter(stamped)
        for rank, change in enumerate(OBLIGATION_CHANGES)
        if rank and (at := getattr(o, f"{change}_at")) and since < at <= until
    ]
    reports = DeliveryReport.objects.filter(
        reported_at__gt=since,
        reported_at__lte=until,
        obligation__in=Obligation.objects.filter(theirs),
    ).select_related("obligation")
    out += [
        (r.reported_at, 0, r.pk, r.obligation, "reported", r.delivered_quantity)
        for r in reports
    ]
    out.sort(key=lambda e: e[:3])
    return out
