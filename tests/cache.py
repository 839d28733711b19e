"""Emptying the cache in tests without touching other test processes' keys."""

from __future__ import annotations


def clear_own_cache() -> None:
    """Drop this process's cache entries.

    On the services pass every pytest-xdist worker shares one Redis database (each with its own
    KEY_PREFIX, config/settings/test.py). ``cache.clear()`` there is FLUSHDB: it wiped the other
    worker's OTP breaker counter and portal lookup throttle in the middle of their tests, which is
    why those tests failed only when run beside others. Tests call this instead, never cache.clear().
    """
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    # The backend itself, not django.core.cache.cache: that is a ConnectionProxy, which is never an
    # instance of RedisCache (checking it sent every test down the FLUSHDB branch).
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
