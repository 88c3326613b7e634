"""Background jobs for accounts. Tasks are thin: they call a service."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from accounts import notifications, services


@shared_task(name="accounts.housekeeping")
def housekeeping() -> dict[str, int]:
    """Nightly: forget what is no longer needed (expired API tokens, old attempt counts)."""
    return services.accounts_housekeeping()


@shared_task(
    name="accounts.notification_emails_send",
    ignore_result=True,
    # The mail server or the database away for a moment (smtplib's errors are OSErrors);
    # what was mailed before the failure is marked and not sent again.
    autoretry_for=(OSError, OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
)
def notification_emails_send(user_ids: list[int], at: str) -> int:
    """Mail these users (those who asked for email) the notifications they got at `at`."""
    return notifications.notification_emails_send(
        user_ids=user_ids, at=datetime.datetime.fromisoformat(at)
    )
