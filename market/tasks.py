"""Liveness: beat schedules `heartbeat` and a worker runs it; /healthz reads it.
Four-eyes proposals past their 24 hours are marked expired every minute, so the list
stays truthful without an operator opening it. Notifications' tasks are
`market.notifications.tasks` (imported here, so the worker registers them)."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from core import heartbeat as liveness
from market.notifications import tasks as notification_tasks  # noqa: F401
from market.proposals import proposals_expire


@shared_task(ignore_result=True)
def heartbeat() -> None:
    liveness.beat()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def proposals_expire_due() -> int:
    """Mark the pending proposals past `expires_at` expired; idempotent."""
    with transaction.atomic(durable=True):
        return proposals_expire(now=timezone.now())
