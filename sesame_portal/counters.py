"""Counters kept in the shared cache (Redis in production, so every process counts
together): rate limits of partners and of sign-up and identity attempts."""

from __future__ import annotations

import contextlib

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache


def counters_add(*counters: tuple[str, int]) -> list[int]:
    """Add one to each (key, time to live) counter, created at zero if missing, and return
    the new values: one round trip (a pipeline) on Redis, the cache API elsewhere.

    Raises whatever the cache raises when it cannot be reached; callers decide whether
    their limit fails open or closed."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        keys = [backend.make_and_validate_key(key) for key, _ttl in counters]
        client = backend._cache.get_client(keys[0], write=True)
        pipeline = client.pipeline(transaction=False)
        for key, (_name, ttl) in zip(keys, counters, strict=True):
            pipeline.set(key, 0, ex=ttl, nx=True)
            pipeline.incr(key)
        return pipeline.execute()[1::2]
    values = []
    for key, ttl in counters:
        cache.add(key, 0, ttl)
        values.append(cache.incr(key))
    return values


def counter_subtract(key: str) -> None:
    """Take one back from a counter (an attempt that turned out not to count). A counter
    that expired meanwhile, or a cache that is down, leaves nothing to take back."""
    # A missing key or an unreachable cache: nothing to undo.
    with contextlib.suppress(Exception):
        cache.decr(key)
