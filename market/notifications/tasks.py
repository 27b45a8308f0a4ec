"""Celery tasks of notifications: send one delivery (retried with backoff by
enqueueing its next attempt with a countdown), and the sweep that sends whatever
is due and was never enqueued or whose message was lost (it, not the broker,
guarantees progress). Registered through `market.tasks`."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from market.models import NotificationDelivery
from market.notifications import delivery

SWEEP_BATCH = 1000


@shared_task(acks_late=True, reject_on_worker_lost=True)
def notification_deliver(delivery_id: int, attempt: int = 0) -> None:
    """Make the delivery's attempt number `attempt + 1`; on a failure that may be
    retried, enqueue the next one after its backoff."""
    wait = delivery.delivery_attempt(delivery_id=delivery_id, attempt=attempt)
    if wait is not None:
        notification_deliver.apply_async((delivery_id, attempt + 1), countdown=wait)


def deliveries_enqueue(delivery_ids: list[int]) -> None:
    """After commit: one task per delivery, each retried on its own."""
    for delivery_id in delivery_ids:
        notification_deliver.delay(delivery_id, 0)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliveries_sweep() -> int:
    """Enqueue the pending deliveries whose attempt is overdue by more than the
    grace (an enqueued attempt is usually on its way)."""
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS)
    due = list(
        NotificationDelivery.objects.filter(
            status=NotificationDelivery.Status.PENDING,
            next_attempt_at__lte=timezone.now() - grace,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "attempts")[:SWEEP_BATCH]
    )
    for delivery_id, attempts in due:
        notification_deliver.delay(delivery_id, attempts)
    return len(due)
