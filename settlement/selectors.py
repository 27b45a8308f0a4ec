"""Reads of settlement for the API and pages: a participant's balances, ledger
postings and delivery obligations."""

from decimal import Decimal

from django.db.models import Q, QuerySet

from market.models import Participant
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
