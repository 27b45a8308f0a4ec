"""Liveness: beat schedules `heartbeat` and a worker runs it; /healthz reads it."""

import time

from celery import shared_task
from django.core.cache import cache

from config.views import HEARTBEAT_KEY


@shared_task(ignore_result=True)
def heartbeat() -> None:
    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)
