"""The Redis cache backend, against a real Redis."""

import threading
import uuid

import pytest

from tests.conftest import redis_url
from tisket.cache import RedisCache


@pytest.fixture
def redis_cache() -> RedisCache:
    url = redis_url()
    cache = RedisCache(url, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    cache.delete_many(["flag", "counter", "value"])


def test_one_client_serves_every_call(redis_cache: RedisCache) -> None:
    client = redis_cache._cache.get_client(write=True)

    assert redis_cache.add("flag", 1, timeout=10) is True
    assert redis_cache.add("flag", 2, timeout=10) is False
    redis_cache.set("value", {"a": [1, 2]})

    assert redis_cache._cache.get_client(write=True) is client
    assert redis_cache._cache.get_client(write=False) is client  # one server: reads there too
    assert redis_cache.get("flag") == 1
    assert redis_cache.get("value") == {"a": [1, 2]}


def test_replicas_get_their_own_clients() -> None:
    url = redis_url()
    cache = RedisCache([url, url], {})  # writes go to the first server, reads to the others

    primary = cache._cache.get_client(write=True)
    replica = cache._cache.get_client(write=False)

    assert primary is not replica
    assert primary.connection_pool is not replica.connection_pool
    assert cache._cache.get_client(write=False) is replica


def test_threads_share_the_client_safely(redis_cache: RedisCache) -> None:
    redis_cache.set("counter", 0)

    def bump() -> None:
        for _ in range(200):
            redis_cache.incr("counter")

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert redis_cache.get("counter") == 1600
