"""Resizing a provider's cluster: its count can never drop below what its sells
commit at any instant (open and filled sells, across instruments and profiles); and
what a provider declares of it (a TEE, certifications), which waits for an
operator's check while its sells carry what was verified."""

from django.utils import timezone

from exchange.entry import run_durable
from exchange.exceptions import InsufficientCapacity, InvalidOrder, NotFound
from exchange.locks import cluster_for_update
from exchange.models import Order
from exchange.services.capacity import peak_commitment
from market.models import Certification, Cluster, Participant
from market.models.participants import certifications_text


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


def cluster_declare(
    *,
    participant: Participant,
    cluster_id: int,
    count: int,
    confidential: bool,
    certifications: list[str],
) -> Cluster:
    """Entry point: a provider sets its cluster's count (never below what is
    committed) and what it declares. A changed declaration is stamped and waits
    for an operator's check; sells meanwhile carry what was verified."""
    if count < 1:
        raise InvalidOrder(
            "A cluster has at least one chip.", fields={"count": [">= 1"]}
        )
    unknown = sorted(set(certifications) - set(Certification.values))
    if unknown:
        message = f"Unknown certifications: {', '.join(unknown)}."
        raise InvalidOrder(message, fields={"certifications": [message]})
    return run_durable(
        _declare,
        participant=participant,
        cluster_id=cluster_id,
        count=count,
        confidential=confidential,
        certifications=certifications_text(certifications),
    )


def _declare(
    *, participant, cluster_id, count, confidential, certifications
) -> Cluster:
    if not Cluster.objects.filter(pk=cluster_id, participant=participant).exists():
        raise NotFound(f"No cluster {cluster_id}.")
    cluster = do_cluster_resize(cluster_id=cluster_id, count=count)
    declared = (cluster.confidential, cluster.certifications)
    raised = cluster.verified_count is not None and count > cluster.verified_count
    if declared != (confidential, certifications) or raised:
        cluster.confidential, cluster.certifications = confidential, certifications
        cluster.declared_at = timezone.now()
        cluster.save(update_fields=["confidential", "certifications", "declared_at"])
    return cluster
