"""Liveness of the whole deployment: a task that beat schedules and a worker runs
writes the time to the shared cache; /healthz reads its age."""

import time

from django.core.cache import cache

HEARTBEAT_KEY = "yiwang:heartbeat"


def beat() -> None:
    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)


def age_seconds() -> float | None:
    """Seconds since the last beat, None if there was none."""
    last = cache.get(HEARTBEAT_KEY)
    return None if last is None else time.time() - last
