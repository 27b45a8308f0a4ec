"""Liveness: beat schedules `heartbeat` and a worker runs it; /healthz reads it.
Notifications' tasks are `market.notifications.tasks` (imported here, so the worker
registers them)."""

from celery import shared_task

from core import heartbeat as liveness
from market.notifications import tasks as notification_tasks  # noqa: F401


@shared_task(ignore_result=True)
def heartbeat() -> None:
    liveness.beat()
