"""Django's Redis cache, with one redis-py client per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` on every cache call,
and redis-py's constructor copies its table of some 170 response callbacks into a
case-insensitive dict each time: with the API's throttle (a get and a set per
request) that was two constructions per request, a cost every API call paid. A
`redis.Redis` takes a connection from its pool per command and is safe to share
between threads, so one per pool serves every call. Everything else (pools, options,
serializer, the cache API) is Django's own.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # id of a connection pool -> the redis.Redis on it

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)  # kept for the process's life
        client = self._clients.get(id(pool))
        if client is None:  # two threads may both build one: either will do
            client = self._clients.setdefault(
                id(pool), self._client(connection_pool=pool)
            )
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
