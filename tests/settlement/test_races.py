"""Races on PostgreSQL with real threads: a provider's delivery report against the
settlement of the same trade. The obligation's lock orders them: the trade settles
once, on the report if it came first, and a report that comes after is refused with
nothing written."""

import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction

from exchange.services import instruments as lifecycle
from settlement.exceptions import DeliveryNotAllowed
from settlement.models import DeliveryReport, JournalEntry, Obligation
from settlement.services import delivery_report, trade_settle
from tests.exchange.conftest import make_buyer, make_instrument, make_seller, place
from tests.settlement.helpers import balance, platform
from tests.threads import threads_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 6
# A local trade (no surcharge) of 10.0 SCU-h at 12.00; the buyer is the taker (10
# bps), the seller the maker (5 bps), its bond 10% of 120.00. What each party's
# money moved by, from before the trade to after settlement:
#   7.0 reported: seller 84.00 - 0.0420 fee - 3.60 penalty (12.00 x 3/10);
#                 buyer -(84.00 + 0.0840 fee) + 3.60; platform fees 0.1260.
#   none counted: the buyer gets everything back and the whole bond, 12.00.
MOVED = {
    Decimal("7.0"): (Decimal("-80.4840"), Decimal("80.3580"), Decimal("0.1260")),
    Decimal("0.0"): (Decimal("12.00"), Decimal("-12.00"), Decimal(0)),
}


def assert_reconciled() -> None:
    """`manage.py reconcile` finds every invariant holding (it exits 1 otherwise)."""
    out = io.StringIO()
    try:
        call_command("reconcile", stdout=out)
    except SystemExit:
        pytest.fail(out.getvalue())
    assert "All invariants hold." in out.getvalue()


def test_delivery_report_racing_settlement_counts_or_is_refused(catalogue):
    """Six trades; for each, the seller reports 7.0 SCU-h delivered while two
    settlement runs (the task and the sweeper's batch) settle the trade. Each
    trade settles once: on 7.0 when the report got there first, else on nothing
    delivered with the report refused (delivery_not_allowed) and not recorded.
    Money is conserved, and each party is paid for what was counted."""
    instrument = make_instrument()
    pairs = [(make_buyer("CLU-GUIAN"), make_seller("CLU-GUIAN")) for _ in range(ROUNDS)]
    before = {p.pk: balance(p) for pair in pairs for p in pair}
    trades = []
    for buyer, seller in pairs:
        place(seller, instrument, "sell", "10.0", "12.00")
        [fill] = place(buyer, instrument, "buy", "10.0", "12.00").fills
        trades.append(fill)
    lifecycle.instruments_close_run(now=instrument.gate_closure_at)
    # The report was sent at its deadline's last moment and reaches the database as
    # settlement runs; services take the time they act at.
    reported_at, settled_at = (
        instrument.report_deadline_at,
        instrument.confirm_deadline_at,
    )
    counted = Counter()

    for (buyer, seller), fill in zip(pairs, trades, strict=True):

        def racer(i, seller=seller, fill=fill):
            with transaction.atomic(durable=True):
                if i == 0:
                    return delivery_report(
                        participant=seller,
                        trade_id=fill.pk,
                        delivered=Decimal("7.0"),
                        now=reported_at,
                    ).status
                return trade_settle(trade_id=fill.pk, now=settled_at)

        report, *settled = threads_together(3, racer)
        ob = Obligation.objects.get(trade_id=fill.pk)
        assert ob.status == "settled"
        # One run settled it; the other found it settled and did nothing.
        assert Counter(settled) == Counter([True, False]), settled
        reports = list(DeliveryReport.objects.filter(obligation=ob))
        if report == "reported":  # it came first: settlement used it
            assert ob.delivered_quantity == Decimal("7.0")
            assert [r.delivered_quantity for r in reports] == [Decimal("7.0")]
        else:
            assert isinstance(report, DeliveryNotAllowed), report
            assert str(report) == f"Trade {fill.pk} is settled."
            assert ob.delivered_quantity == Decimal("0.0")
            assert reports == []
        counted[ob.delivered_quantity] += 1
        kinds = Counter(
            JournalEntry.objects.filter(reference=f"trade:{fill.pk}").values_list(
                "kind", flat=True
            )
        )
        # The bond left after a partial penalty comes back in a release entry.
        release = {"release": 1} if ob.delivered_quantity else {}
        assert kinds == Counter({"settle": 1, "penalty": 1, **release})
        buyer_moved, seller_moved, _fees = MOVED[ob.delivered_quantity]
        assert balance(buyer) - before[buyer.pk] == buyer_moved
        assert balance(seller) - before[seller.pk] == seller_moved
        assert balance(buyer, "held") == balance(seller, "bond") == 0

    assert sum(counted.values()) == ROUNDS
    assert platform("escrow", instrument.symbol) == 0
    # Settlement only moves money between these accounts: none made, none lost.
    held_by_parties = sum(
        balance(p, kind)
        for pair in pairs
        for p in pair
        for kind in ("available", "held", "bond")
    )
    on_platform = sum(
        platform(kind, instrument.symbol) for kind in ("escrow", "fees", "network")
    )
    assert held_by_parties + on_platform == sum(before.values())
    assert platform("fees", instrument.symbol) == sum(
        MOVED[q][2] * n for q, n in counted.items()
    )
    assert lifecycle.instruments_mark_settled_run(now=settled_at) == [instrument.symbol]
    assert_reconciled()
