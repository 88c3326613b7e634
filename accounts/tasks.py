"""Background jobs for accounts, and the function that queues the email one. Tasks are
thin: they call a service; only this module talks to the broker, so nothing loops."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

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


@shared_task(
    name="accounts.data_use_emails_send",
    ignore_result=True,
    # Every minute anyway: a failed run is simply the next one's work.
)
def data_use_emails_send() -> int:
    """Mail the data-use alerts and digests not mailed yet (those who asked for email)."""
    return notifications.data_use_emails_send()


def notification_emails_queue(*, user_ids: Iterable[int], at: datetime.datetime) -> None:
    """After commit, one task that mails these users the notifications they got at `at`.

    Both recomputes stamp a snapshot's score and benefit notifications with one moment,
    so the task finds them all; it mails only users who turned email on, so callers may
    pass users who did not.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return
    stamp = at.isoformat()
    # robust: a broker that is down must not fail the request that already committed.
    transaction.on_commit(lambda: notification_emails_send.delay(ids, stamp), robust=True)
