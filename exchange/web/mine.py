"""What a participant's own trading pages show: orders (open or all), fills with
their carbon (and the buyer's total), and a provider's capacity per instrument
window (committed versus free chips)."""

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.core.paginator import Paginator
from django.http import QueryDict

from exchange import selectors
from exchange.exceptions import NotFound
from exchange.marketdata.carbon import buyer_carbon_total, trades_carbon_kg
from exchange.models import Order
from exchange.services.capacity import peak_commitment
from exchange.web import orderview
from market.models import Cluster, Participant

PAGE_SIZE = 50
LOT = Decimal("0.1")


def orders_context(*, participant: Participant, params: QueryDict) -> dict:
    show = params.get("show") if params.get("show") in ("open", "all") else "open"
    symbol = params.get("instrument") or None
    orders = selectors.order_list(participant=participant, instrument=symbol)
    if show == "open":
        orders = orders.filter(status__in=Order.OPEN_STATUSES)
    page = Paginator(orders, PAGE_SIZE).get_page(params.get("page"))
    open_count = (
        selectors.order_list(participant=participant)
        .filter(status__in=Order.OPEN_STATUSES)
        .count()
    )
    query = params.copy()
    query.pop("page", None)
    orders_shown = list(page.object_list)
    why = orderview.why_not_filled(orders_shown)
    for order in orders_shown:
        order.constraint_lines = orderview.constraint_lines(order.constraints)
        order.why_not = why.get(order.pk)
    return {
        "page": page,
        "orders": orders_shown,
        "show": show,
        "symbol": symbol or "",
        "open_count": open_count,
        "query": query.urlencode(),
    }


def order_context(*, participant: Participant, order_id: int) -> dict:
    """One of the participant's orders: what it asked for, its fills, and for a
    resting buy why nothing fills it now (NotFound for another's)."""
    order = selectors.order_list(participant=participant).filter(pk=order_id).first()
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return {
        "order": order,
        "constraint_lines": orderview.constraint_lines(order.constraints),
        "fills": [
            selectors.fill_view(t, participant.pk)
            for t in selectors.order_fills(order=order)
        ],
        "why_not": orderview.why_not_filled([order]).get(order.pk),
    }


def fills_context(*, participant: Participant, params: QueryDict) -> dict:
    symbol = params.get("instrument") or None
    trades = selectors.fill_list(participant=participant, instrument=symbol).order_by(
        "-pk"
    )
    page = Paginator(trades, PAGE_SIZE).get_page(params.get("page"))
    carbon = trades_carbon_kg([t.pk for t in page])
    query = params.copy()
    query.pop("page", None)
    return {
        "page": page,
        "fills": [
            selectors.fill_view(t, participant.pk) | {"carbon_kg": carbon[t.pk]}
            for t in page
        ],
        "symbol": symbol or "",
        "query": query.urlencode(),
        "carbon": buyer_carbon_total(participant=participant)
        if participant.is_buyer
        else None,
    }


@dataclass(frozen=True)
class WindowCapacity:
    instrument: str
    profile: str
    delivery_start: object
    delivery_end: object
    factor: Decimal
    scu_h: Decimal
    committed_chips: Decimal
    free_chips: Decimal
    free_scu_h: Decimal
    hours: Decimal


def capacity_context(*, participant: Participant) -> dict:
    """Per cluster, per open instrument its chip can sell: capacity in SCU-h, the
    most chips committed at any instant of the window (by sells of every profile),
    and what is free."""
    clusters = list(selectors.cluster_list(participant=participant))
    capacities = selectors.cluster_capacities(clusters)
    return {
        "clusters": [
            (cluster, [_window(cluster, row) for row in capacities.get(cluster.pk, [])])
            for cluster in clusters
        ]
    }


def cluster_windows(cluster: Cluster) -> dict:
    """One cluster's windows, as `capacity_context` shows them, and the most chips
    committed in any of them (its count's floor)."""
    capacities = selectors.cluster_capacities([cluster]).get(cluster.pk, [])
    windows = [_window(cluster, row) for row in capacities]
    return {
        "windows": windows,
        "committed_peak": max((w.committed_chips for w in windows), default=0),
    }


def _window(cluster: Cluster, row: dict) -> WindowCapacity:
    start, end = row["delivery_start"], row["delivery_end"]
    hours = Decimal((end - start).total_seconds()) / 3600
    committed = peak_commitment(cluster=cluster, start=start, end=end)
    free = max(Decimal(cluster.sellable_count) - committed, Decimal(0))
    return WindowCapacity(
        instrument=row["instrument"],
        profile=row["profile"],
        delivery_start=start,
        delivery_end=end,
        factor=row["factor"],
        scu_h=row["scu_h"],
        committed_chips=committed,
        free_chips=free,
        free_scu_h=(free * row["factor"] * hours).quantize(LOT, ROUND_FLOOR),
        hours=hours,
    )
