"""Ledger invariants, checked from the stored rows (read-only), and the reads the
exchange's own checks need from settlement. Each check returns a list of
human-readable failures; empty means it holds. Run them inside one consistent
snapshot (`core.db.consistent_snapshot`): `manage.py reconcile` does."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q

from core.db import decimal_sums
from settlement.models import (
    Account,
    Hold,
    JournalEntry,
    Obligation,
    Posting,
    WithdrawalRequest,
)

ZERO = Decimal(0)


def _sums(key: str) -> dict[int, Decimal]:
    """Sum of posting amounts per `key`, exactly."""
    return decimal_sums(Posting.objects.all(), by=key, field="amount")


def entries_balance() -> list[str]:
    bad = sorted((e, t) for e, t in _sums("entry_id").items() if t != 0)
    return [f"journal entry {e} sums to {t}" for e, t in bad[:50]]


def postings_sum_to_zero() -> list[str]:
    total = sum(_sums("entry_id").values(), ZERO)
    return [] if total == 0 else [f"all postings sum to {total}, not 0"]


def balances_match_postings() -> list[str]:
    sums = _sums("account_id")
    return [
        f"{a} stores {a.balance} but its postings sum to {sums.get(a.pk, ZERO)}"
        for a in Account.objects.all()
        if a.balance != sums.get(a.pk, ZERO)
    ]


def no_negative_balances() -> list[str]:
    bad = Account.objects.filter(balance__lt=0).exclude(kind=Account.Kind.EXTERNAL)
    return [f"{a} is negative: {a.balance}" for a in bad]


def holds_match_accounts() -> list[str]:
    """Per participant: held = open order holds; bond = sell and trade bonds."""
    want: dict[tuple[int | None, str], Decimal] = defaultdict(lambda: ZERO)
    for pid, kind, amount in Hold.objects.filter(status=Hold.Status.OPEN).values_list(
        "participant_id", "kind", "amount"
    ):
        account = Account.Kind.HELD if kind == Hold.Kind.ORDER else Account.Kind.BOND
        want[pid, account] += amount
    have = {
        (a.participant_id, a.kind): a.balance
        for a in Account.objects.filter(kind__in=[Account.Kind.HELD, Account.Kind.BOND])
    }
    return [
        f"participant {pid} {kind}: account {have.get((pid, kind), ZERO)}, holds "
        f"{want.get((pid, kind), ZERO)}"
        for pid, kind in sorted(set(want) | set(have))
        if have.get((pid, kind), ZERO) != want.get((pid, kind), ZERO)
    ]


def escrow_matches_obligations() -> list[str]:
    want: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for o in Obligation.objects.exclude(status=Obligation.Status.SETTLED).only(
        "instrument", "escrow_amount", "buyer_fee_escrowed"
    ):
        want[o.instrument] += o.escrow_amount + o.buyer_fee_escrowed
    have = dict(
        Account.objects.filter(kind=Account.Kind.ESCROW).values_list(
            "instrument", "balance"
        )
    )
    return [
        f"escrow:{i} holds {have.get(i, ZERO)}, unsettled trades {want.get(i, ZERO)}"
        for i in sorted(set(want) | set(have))
        if have.get(i, ZERO) != want.get(i, ZERO)
    ]


def withdrawals_match_requests() -> list[str]:
    """Per participant: withdrawal_pending = its pending withdrawal requests."""
    want: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for pid, amount in WithdrawalRequest.objects.filter(
        status=WithdrawalRequest.Status.PENDING
    ).values_list("participant_id", "amount"):
        want[pid] += amount
    have = dict(
        Account.objects.filter(kind=Account.Kind.WITHDRAWAL_PENDING).values_list(
            "participant_id", "balance"
        )
    )
    return [
        f"participant {pid} withdrawal_pending: account {have.get(pid, ZERO)}, "
        f"pending requests {want.get(pid, ZERO)}"
        for pid in sorted(set(want) | set(have))
        if have.get(pid, ZERO) != want.get(pid, ZERO)
    ]


def withdrawals_posted_once() -> list[str]:
    """Each request reserved its amount once, and a decided one was paid out or
    returned once, by the amount asked (its postings on withdrawal_pending)."""
    steps = ("withdrawal_request", "withdrawal", "withdrawal_return")
    posted: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for reference, kind, amount in Posting.objects.filter(
        entry__kind__in=steps,
        entry__reference__startswith="withdrawal:",
        account__kind=Account.Kind.WITHDRAWAL_PENDING,
    ).values_list("entry__reference", "entry__kind", "amount"):
        posted[reference, kind].append(amount)
    decision = {
        WithdrawalRequest.Status.PAID: "withdrawal",
        WithdrawalRequest.Status.REJECTED: "withdrawal_return",
    }
    out = []
    for r in WithdrawalRequest.objects.only("pk", "amount", "status"):
        want = {"withdrawal_request": [r.amount]}
        if r.status in decision:
            want[decision[r.status]] = [-r.amount]
        out += [
            f"withdrawal request {r.pk} ({r.status}): {kind} posted {got}"
            for kind in steps
            if (got := posted.get((f"withdrawal:{r.pk}", kind), []))
            != want.get(kind, [])
        ]
    return out


def settled_exactly_once() -> list[str]:
    settles = dict(
        JournalEntry.objects.filter(kind="settle")
        .values_list("reference")
        .annotate(n=Count("id"))
        .order_by()
    )
    out = []
    for o in Obligation.objects.only("trade_id", "status"):
        n = settles.get(f"trade:{o.trade_id}", 0)
        expected = 1 if o.status == Obligation.Status.SETTLED else 0
        if n != expected:
            out.append(f"trade {o.trade_id} ({o.status}) has {n} settlement entries")
    trade_bonds = Hold.objects.filter(
        Q(kind=Hold.Kind.TRADE_BOND, status=Hold.Status.OPEN)
    ).values_list("reference", flat=True)
    settled = {
        f"trade:{t}"
        for t in Obligation.objects.filter(
            status=Obligation.Status.SETTLED
        ).values_list("trade_id", flat=True)
    }
    out += [
        f"{ref} is settled but its bond is still held"
        for ref in trade_bonds
        if ref in settled
    ]
    return out


def open_order_holds() -> dict[str, Decimal]:
    """What each open order hold (a buy's) or sell bond sets aside, by reference."""
    return dict(
        Hold.objects.filter(
            kind__in=[Hold.Kind.ORDER, Hold.Kind.BOND], status=Hold.Status.OPEN
        ).values_list("reference", "amount")
    )


def obligation_trade_ids() -> set[int]:
    """The trades settlement holds an obligation for."""
    return set(Obligation.objects.values_list("trade_id", flat=True))


def unsettled_trade_counts() -> dict[str, int]:
    """How many trades are not yet settled, per instrument symbol."""
    return dict(
        Obligation.objects.exclude(status=Obligation.Status.SETTLED)
        .values_list("instrument")
        .annotate(n=Count("id"))
        .order_by()
    )


CHECKS = [
    ("every journal entry sums to zero", entries_balance),
    ("all postings sum to zero", postings_sum_to_zero),
    ("each stored balance equals the sum of its postings", balances_match_postings),
    ("no participant balance is negative", no_negative_balances),
    ("held and bond equal their open holds", holds_match_accounts),
    ("escrow equals the unsettled trades", escrow_matches_obligations),
    (
        "withdrawal_pending equals the pending withdrawal requests",
        withdrawals_match_requests,
    ),
    ("each withdrawal request is reserved and decided once", withdrawals_posted_once),
    ("each trade settles exactly once", settled_exactly_once),
]
