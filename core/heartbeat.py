"""Liveness of the whole deployment: a task that beat schedules and a worker runs
writes the time to the shared cache; /healthz reads its age.

`CACHE_ERRORS` are what a cache call raises while its server is away (Redis down or
unreachable; a file cache's disk gone): callers that can do without the cache catch
these, and only these, to degrade instead of failing the request."""

import time

from django.core.cache import cache
from redis.exceptions import RedisError

HEARTBEAT_KEY = "yiwang:heartbeat"
CACHE_ERRORS = (RedisError, OSError)


def beat() -> None:
    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)


def age_seconds() -> float | None:
    """Seconds since the last beat, None if there was none. Raises one of
    CACHE_ERRORS when the cache is down."""
    last = cache.get(HEARTBEAT_KEY)
    return None if last is None else time.time() - last
