"""Django's Redis cache backend, keeping its redis-py client object.

Django's `RedisCacheClient` makes a new `redis.Redis` for every cache operation; redis-py 8 fills
about 170 response callbacks in each one, which cost about 0.5 ms per operation on the benchmark
machine: more than the round trip to Redis. A client over a connection pool is safe to reuse
(each command takes a connection from the pool), so this backend keeps one per pool."""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient
