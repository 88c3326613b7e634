"""Limits per client address on sign-up and on identity attempts, counted in the shared
cache so that every web process counts together (Redis in production).

A fixed clock-hour window per address: `throttle_count` adds the attempt and refuses it
(429 `rate_limited` with Retry-After) once the hour's count passes the limit. An IPv6
client controls a whole /64, so it counts as its /64. If the cache cannot be reached the
attempt goes ahead (logged as an error): sign-up and verification keep working while Redis
is down, and identity attempts are still limited per account in the database.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging

from django.utils import timezone

from accounts.crypto import keyed_hash
from sesame_portal.counters import counter_subtract, counters_add
from sesame_portal.errors import ServiceError

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 3600


def _address_key(address: str) -> str:
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is None:
        network = ipaddress.ip_network(f"{ip}/64", strict=False)
        address = str(network.network_address)
    elif ip.version == 6:
        address = str(ip.ipv4_mapped)
    # Keyed, so the cache holds no readable addresses.
    return keyed_hash(address)[:32]


def throttle_count(
    *,
    action: str,
    address: str | None,
    limit: int,
    message: str,
    now: datetime.datetime | None = None,
) -> str | None:
    """Count one `action` from `address` in this hour; past `limit`, refuse it.

    `message` is the refusal, with `%(minutes)d` for the wait. Returns the counter's key,
    for `throttle_refund` when the attempt turns out not to count (a successful
    verification); None when nothing was counted (no address, or the cache is
    unreachable).
    """
    if not address:
        return None
    now = now or timezone.now()
    seconds = int(now.timestamp())
    key = f"throttle:{action}:{_address_key(address)}:{seconds // WINDOW_SECONDS}"
    try:
        (count,) = counters_add((key, 2 * WINDOW_SECONDS))
    except Exception:  # any cache failure: let the attempt through, and say so
        logger.error("per-address limit not counted: cache unreachable", extra={"action": action})
        return None
    if count > limit:
        retry_after = WINDOW_SECONDS - seconds % WINDOW_SECONDS
        raise ServiceError(
            "rate_limited",
            message % {"minutes": (retry_after + 59) // 60},
            status_code=429,
            retry_after=retry_after,
        )
    return key


def throttle_refund(key: str | None) -> None:
    """Take back an attempt counted by `throttle_count` that does not count after all."""
    if key is not None:
        counter_subtract(key)
