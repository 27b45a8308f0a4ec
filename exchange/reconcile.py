"""Invariants that join the book and the ledger: holds follow orders, trades have
obligations, sequences are gapless. Read-only; see `manage.py reconcile`."""

from django.db.models import Count, Max, Sum

from exchange.models import ClusterCommitment, Instrument, Order, OrderEvent, Trade
from exchange.services.rules import order_need
from settlement import reconcile as ledger
from settlement.models import Hold, Obligation


def holds_follow_orders() -> list[str]:
    """No hold left on a finished order; every open order holds what it needs."""
    holds = {
        h.reference: h
        for h in Hold.objects.filter(kind__in=[Hold.Kind.ORDER, Hold.Kind.BOND])
    }
    out = []
    for order in Order.objects.select_related("instrument").iterator():
        hold = holds.get(f"order:{order.pk}")
        if order.is_open:
            need = order_need(order, order.instrument)
            if hold is None or hold.status != Hold.Status.OPEN or hold.amount != need:
                out.append(f"open order {order.pk} needs {need}, holds {hold}")
        elif hold is not None and hold.status == Hold.Status.OPEN:
            out.append(f"order {order.pk} is {order.status} but its hold is open")
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
    have = set(Obligation.objects.values_list("trade_id", flat=True))
    return [
        f"trade {t} has no settlement obligation"
        for t in Trade.objects.values_list("pk", flat=True)
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
    out = []
    for inst in Instrument.objects.filter(state=Instrument.State.SETTLED):
        pending = (
            Obligation.objects.filter(instrument=inst.symbol)
            .exclude(status=Obligation.Status.SETTLED)
            .count()
        )
        if pending:
            out.append(f"{inst.symbol} is settled with {pending} unsettled trades")
    return out


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
    *ledger.CHECKS,
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
    """Run every check; returns (name, failures) pairs."""
    return [(name, check()) for name, check in CHECKS]
