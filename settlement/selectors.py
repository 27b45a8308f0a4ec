"""Reads of settlement for the API and pages: a participant's balances, ledger
postings and delivery obligations."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Min, OuterRef, Q, QuerySet, Subquery

from market.models import Participant
from settlement.ledger import LedgerSnapshot
from settlement.models import Account, Obligation, Posting

CURRENCY = "CNY"


def account_balances(*, participant: Participant) -> dict:
    """available, held (escrow for open buys), bond (seller collateral), and
    in_escrow: what the participant's unsettled purchases hold in escrow (all-in
    amount and fee). Summed in Python: SQLite would add decimals as floats."""
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
        "in_escrow": in_escrow,
    }


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
