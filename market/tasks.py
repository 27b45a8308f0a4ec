"""Liveness: beat schedules `heartbeat` and a worker runs it; /healthz reads it."""

from celery import shared_task

from core import heartbeat as liveness


@shared_task(ignore_result=True)
def heartbeat() -> None:
    liveness.beat()
