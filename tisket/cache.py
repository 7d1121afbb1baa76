"""Django's Redis cache, keeping one redis-py client per connection pool.

Django's own client builds a new redis-py client object on every call (the
pool is kept, the client is not); redis-py's constructor costs more than the
command it then sends. The webhook touches the cache on every mail, at
a thousand mails a second. Clients are thread-safe, and the pool they share
already handles forks.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._pool_at(index)  # Django's _get_connection_pool draws its own index
            client = self._clients.setdefault(index, self._client(connection_pool=pool))
        return client

    def _pool_at(self, index: int):
        if index not in self._pools:
            self._pools[index] = self._pool_class.from_url(
                self._servers[index], **self._pool_options
            )
        return self._pools[index]


class RedisCache(redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
