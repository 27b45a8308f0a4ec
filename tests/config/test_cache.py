"""The Redis cache backend (config/cache.py), on a real Redis: Django's cache API as
before, with one redis-py client per connection pool instead of one per call."""

import threading

import pytest

from config.cache import RedisCache

pytestmark = pytest.mark.redis

URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def cache():
    cache = RedisCache(URL, {"KEY_PREFIX": "test-cache"})
    yield cache
    cache.clear()


def test_values_round_trip_and_expire(cache):
    cache.set("history", [3.5, 2.25], timeout=30)
    assert cache.get("history") == [3.5, 2.25]
    assert cache.add("history", "other") is False
    cache.set("gone", 1, timeout=0)
    assert cache.get("gone", "missing") == "missing"
    assert cache.add("count", 1) is True
    assert cache.incr("count") == 2
    assert cache.get("count") == 2


def test_every_call_shares_one_client(cache):
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client() is client
    cache.set("k", "v")
    assert cache.get("k") == "v"
    assert cache._cache.get_client(write=True) is client


def test_threads_share_the_client_and_its_pool(cache):
    """Django gives each thread its own cache object; within one, threads that
    share it (as a server's do through a module-level cache) count exactly."""
    cache.set("n", 0)
    errors = []

    def bump():
        try:
            for _ in range(50):
                cache.incr("n")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.get("n") == 400
