"""Operators' entry points: halt or resume an instrument, cancel a participant's
order, resize a cluster. Each runs the same step as the scheduler's or the
participant's entry point, plus the audit row, in one durable transaction (retried
on deadlock like every entry point), so the row exists exactly when the change does.
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from exchange.entry import run_durable
from exchange.locks import cluster_for_update, instrument_for_update
from exchange.models import Instrument, Order
from exchange.services.clusters import do_cluster_resize
from exchange.services.instruments import do_instrument_halt
from exchange.services.orders import do_order_cancel
from market.audit import audit_record
from market.models import Cluster


def instrument_halt_by_operator(
    *, instrument_id: int, halted: bool, operator: AbstractBaseUser, reason: str
) -> Instrument:
    """Entry point: halt (new orders get 409) or resume trading."""
    return run_durable(
        _halt_audited,
        instrument_id=instrument_id,
        halted=halted,
        operator=operator,
        reason=reason,
    )


def _halt_audited(
    *, instrument_id: int, halted: bool, operator: AbstractBaseUser, reason: str
) -> Instrument:
    before = instrument_for_update(instrument_id).state
    instrument = do_instrument_halt(instrument_id=instrument_id, halted=halted)
    audit_record(
        operator=operator,
        action="instrument.halt" if halted else "instrument.resume",
        target=instrument,
        before={"state": before},
        after={"state": instrument.state},
        reason=reason,
    )
    return instrument


def order_cancel_by_operator(
    *, order_id: int, operator: AbstractBaseUser, reason: str
) -> Order:
    """Entry point: cancel a participant's open order and release its hold or
    bond; its events name the operator."""
    return run_durable(
        _cancel_audited,
        order_id=order_id,
        operator=operator,
        reason=reason,
        now=timezone.now(),
    )


def _cancel_audited(
    *, order_id: int, operator: AbstractBaseUser, reason: str, now: datetime
) -> Order:
    order = Order.objects.select_related("participant").get(pk=order_id)
    instrument_for_update(order.instrument_id)  # so `before` is what is cancelled
    order.refresh_from_db()
    fields = ("status", "remaining_quantity")
    before = {name: getattr(order, name) for name in fields}
    cancelled = do_order_cancel(
        participant=order.participant,
        order_id=order_id,
        now=now,
        caused_by_id=operator.pk,
    )
    audit_record(
        operator=operator,
        action="order.cancel",
        target=cancelled,
        before=before,
        after={name: getattr(cancelled, name) for name in fields},
        reason=reason,
    )
    return cancelled


def cluster_resize_by_operator(
    *, cluster_id: int, count: int, operator: AbstractBaseUser, reason: str
) -> Cluster:
    """Entry point: set a cluster's chip count, never below what its sells commit."""
    return run_durable(
        _resize_audited,
        cluster_id=cluster_id,
        count=count,
        operator=operator,
        reason=reason,
    )


def _resize_audited(
    *, cluster_id: int, count: int, operator: AbstractBaseUser, reason: str
) -> Cluster:
    locked = cluster_for_update(cluster_id)
    before = {"count": locked.count, "verified_count": locked.verified_count}
    cluster = do_cluster_resize(cluster_id=cluster_id, count=count)
    if cluster.verified_at is not None:  # the operator's count is a checked one
        cluster.verified_count = count
        cluster.save(update_fields=["verified_count"])
    audit_record(
        operator=operator,
        action="cluster.resize",
        target=cluster,
        before=before,
        after={"count": cluster.count, "verified_count": cluster.verified_count},
        reason=reason,
    )
    return cluster
