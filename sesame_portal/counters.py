"""Counters kept in the shared cache (Redis in production, so every process counts
together): rate limits of partners and of sign-up and identity attempts; and versions,
which tell every process at once that what it cached of something is stale."""

from __future__ import annotations

import contextlib
import uuid

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache


def counters_add(*counters: tuple[str, int]) -> list[int]:
    """Add one to each (key, time to live) counter, created at zero if missing, and return
    the new values: one round trip (a pipeline) on Redis, the cache API elsewhere.

    Raises whatever the cache raises when it cannot be reached; callers decide whether
    their limit fails open or closed."""
    return _counters_add(counters, version_key=None)[0]


def counters_add_versioned(version_key: str, *counters: tuple[str, int]) -> tuple[list[int], str]:
    """counters_add, and in the same round trip the current value of a version (see
    version_read): what a process checks its own cache against on every call."""
    values, version = _counters_add(counters, version_key=version_key)
    return values, str(version)


def version_read(key: str) -> str:
    """The current value of a version that version_bump changes whenever what it guards
    changes. A missing version (never bumped, or lost by the cache) is set to a new random
    value, never to one a process may have seen before."""
    return str(_counters_add((), version_key=key)[1])


def version_bump(key: str) -> None:
    """Give the version a new value: every process's cache checked against it is stale.
    Raises when the cache cannot be reached (the change must not pass unannounced)."""
    cache.set(key, uuid.uuid4().hex, None)


def _counters_add(
    counters: tuple[tuple[str, int], ...], *, version_key: str | None
) -> tuple[list[int], str | None]:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        keys = [backend.make_and_validate_key(key) for key, _ttl in counters]
        version = backend.make_and_validate_key(version_key) if version_key else None
        client = backend._cache.get_client((keys or [version])[0], write=True)
        pipeline = client.pipeline(transaction=False)
        for key, (_name, ttl) in zip(keys, counters, strict=True):
            pipeline.set(key, 0, ex=ttl, nx=True)
            pipeline.incr(key)
        if version:
            # Stored as Django's cache stores a str (pickled), so cache.get reads it too.
            pipeline.set(version, backend._cache._serializer.dumps(uuid.uuid4().hex), nx=True)
            pipeline.get(version)
        answers = pipeline.execute()
        read = backend._cache._serializer.loads(answers[-1]) if version else None
        return answers[1 : 2 * len(keys) : 2], read
    values = []
    for key, ttl in counters:
        cache.add(key, 0, ttl)
        values.append(cache.incr(key))
    if version_key is None:
        return values, None
    cache.add(version_key, uuid.uuid4().hex, None)
    return values, cache.get(version_key)


def counter_subtract(key: str) -> None:
    """Take one back from a counter (an attempt that turned out not to count). A counter
    that expired meanwhile, or a cache that is down, leaves nothing to take back."""
    # A missing key or an unreachable cache: nothing to undo.
    with contextlib.suppress(Exception):
        cache.decr(key)
