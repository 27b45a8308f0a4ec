"""Resizing a provider's cluster: its count can never drop below what its sells
commit at any instant (open and filled sells, across instruments and profiles)."""

from django.utils import timezone

from exchange.entry import run_durable
from exchange.exceptions import InsufficientCapacity, InvalidOrder
from exchange.locks import cluster_for_update
from exchange.models import Order
from exchange.services.capacity import peak_commitment
from market.models import Cluster


def cluster_committed_peak(cluster: Cluster):
    """The most chips committed at any instant from now on."""
    windows = (
        Order.objects.filter(
            cluster=cluster,
            committed_chips__gt=0,
            instrument__delivery_end__gt=timezone.now(),
        )
        .values_list("instrument__delivery_start", "instrument__delivery_end")
        .distinct()
    )
    return max(
        (peak_commitment(cluster=cluster, start=s, end=e) for s, e in windows),
        default=0,
    )


def cluster_resize(*, cluster_id: int, count: int) -> Cluster:
    """Entry point: set a cluster's chip count (operators, providers)."""
    if count < 1:
        raise InvalidOrder(
            "A cluster has at least one chip.", fields={"count": [">= 1"]}
        )
    return run_durable(do_cluster_resize, cluster_id=cluster_id, count=count)


def do_cluster_resize(*, cluster_id: int, count: int) -> Cluster:
    """Inside the caller's transaction: lock the cluster and set its count (never
    below what its sells commit)."""
    cluster = cluster_for_update(cluster_id)
    peak = cluster_committed_peak(cluster)
    if count < peak:
        raise InsufficientCapacity(
            f"{cluster.name} has {peak.normalize()} chips committed by sell orders in "
            f"one window; its count cannot drop below that."
        )
    cluster.count = count
    cluster.save(update_fields=["count"])
    return cluster
