"""The Redis cache backend (``portal.cache``) reuses one client per pool and behaves as Django's."""
from django.core.cache import caches

from portal.cache import RedisCache


def test_the_configured_cache_is_ours_and_keeps_one_client():
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=False) is client  # one server: reads and writes share it
    cache.set("cache-backend-test", {"a": 1}, 30)
    assert cache.get("cache-backend-test") == {"a": 1}
    assert cache.add("cache-backend-n", 1) and cache.incr("cache-backend-n") == 2
    assert cache._cache.get_client() is client
    cache.delete_many(["cache-backend-test", "cache-backend-n"])
    assert cache.get("cache-backend-test") is None and cache.get("cache-backend-n") is None
