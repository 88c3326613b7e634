"""Background jobs for accounts. Tasks are thin: they call a service."""

from __future__ import annotations

from celery import shared_task

from accounts import services


@shared_task(name="accounts.housekeeping")
def housekeeping() -> dict[str, int]:
    """Nightly: forget what is no longer needed (expired API tokens, old attempt counts)."""
    return services.accounts_housekeeping()
