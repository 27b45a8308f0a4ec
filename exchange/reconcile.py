"""Invariants that join the book and the ledger: holds follow orders, trades have
obligations, sequences are gapless; with settlement's own, they are what
`manage.py reconcile` checks. Read-only.

`reconcile()` runs every check inside one consistent snapshot: beside live trading,
reads of different tables at different moments would see half of a command (its
postings but not its balances, its events but not the instrument's sequence) and
report failures that no committed state has."""

from django.db.models import Count, Max, Sum

from core.db import consistent_snapshot
from exchange.models import ClusterCommitment, Instrument, Order, OrderEvent, Trade
from exchange.services.rules import order_need
from settlement import interface as settlement


def holds_follow_orders() -> list[str]:
    """Every open order holds what it needs; no hold is left on any other order."""
    holds = settlement.open_order_holds()
    out = []
    for order in (
        Order.objects.filter(status__in=Order.OPEN_STATUSES)
        .select_related("instrument")
        .iterator()
    ):
        held = holds.pop(settlement.order_reference(order.pk), None)
        need = order_need(order, order.instrument)
        if held != need:
            out.append(f"open order {order.pk} needs {need}, holds {held}")
    out += [
        f"{reference} still holds {amount}, but the order is not open"
        for reference, amount in sorted(holds.items())
    ]
    return out


def order_quantities_consistent() -> list[str]:
    return [
        f"order {pk}: filled {filled} + remaining {remaining} > quantity {quantity}"
        for pk, quantity, filled, remaining in Order.objects.values_list(
            "pk", "quantity", "filled_quantity", "remaining_quantity"
        ).iterator()
        if filled + remaining > quantity
    ]


def commitments_match_orders() -> list[str]:
    """Each cluster's kept commitment per instrument is the sum of its sells'."""
    summed = {
        (row["cluster_id"], row["instrument_id"]): row["chips"]
        for row in Order.objects.filter(committed_chips__gt=0)
        .values("cluster_id", "instrument_id")
        .annotate(chips=Sum("committed_chips"))
        .order_by()
    }
    kept = {
        (c.cluster_id, c.instrument_id): c.chips
        for c in ClusterCommitment.objects.exclude(chips=0)
    }
    return [
        f"cluster {cluster} in instrument {instrument}: kept {kept.get(key, 0)}, "
        f"its sells commit {summed.get(key, 0)}"
        for key in sorted(summed.keys() | kept.keys())
        if kept.get(key, 0) != summed.get(key, 0)
        for cluster, instrument in [key]
    ]


def trades_have_obligations() -> list[str]:
    have = settlement.obligation_trade_ids()
    return [
        f"trade {t} has no settlement obligation"
        for t in Trade.objects.values_list("pk", flat=True).iterator()
        if t not in have
    ]


def trades_consistent() -> list[str]:
    return [
        f"trade {pk}: all-in {all_in} != {price} + {surcharge}"
        for pk, price, surcharge, all_in in Trade.objects.values_list(
            "pk", "price", "surcharge", "all_in_price"
        ).iterator()
        if price + surcharge != all_in
    ]


def settled_instruments_settled() -> list[str]:
    unsettled = settlement.unsettled_trade_counts()
    return [
        f"{symbol} is settled with {unsettled[symbol]} unsettled trades"
        for symbol in Instrument.objects.filter(
            state=Instrument.State.SETTLED
        ).values_list("symbol", flat=True)
        if unsettled.get(symbol)
    ]


def sequences_gapless() -> list[str]:
    stats = {
        r["instrument_id"]: r
        for r in OrderEvent.objects.values("instrument_id")
        .annotate(n=Count("id"), top=Max("sequence"))
        .order_by()
    }
    out = []
    for inst in Instrument.objects.only("pk", "symbol", "sequence"):
        s = stats.get(inst.pk, {"n": 0, "top": 0})
        if not s["n"] == (s["top"] or 0) == inst.sequence:
            out.append(
                f"{inst.symbol}: {s['n']} events, last {s['top']}, "
                f"instrument at {inst.sequence}"
            )
    return out


CHECKS = [
    *settlement.LEDGER_CHECKS,
    (
        "no hold on a finished order; open orders hold what they need",
        holds_follow_orders,
    ),
    (
        "filled + remaining never exceeds an order's quantity",
        order_quantities_consistent,
    ),
    ("every trade has a settlement obligation", trades_have_obligations),
    (
        "each cluster's kept commitment is what its sells commit",
        commitments_match_orders,
    ),
    ("every trade's all-in price is its price plus surcharge", trades_consistent),
    ("every trade of a settled instrument is settled", settled_instruments_settled),
    ("event sequences are gapless", sequences_gapless),
]


def reconcile() -> list[tuple[str, list[str]]]:
    """Run every check inside one consistent snapshot; returns (name, failures)
    pairs."""
    with consistent_snapshot():
        return [(name, check()) for name, check in CHECKS]
