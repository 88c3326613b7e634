"""Nightly clean-up of what is no longer needed."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.models import (
    IdentityAttempt,
)

IDENTITY_ATTEMPT_RETENTION = datetime.timedelta(days=30)


def accounts_housekeeping(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete expired API tokens and verification attempts older than the retention.

    Attempts only feed the hourly rate limit; keeping them a month covers abuse review
    without holding a record of every try for ever.
    """
    from knox.models import AuthToken

    now = now or timezone.now()
    tokens, _ = AuthToken.objects.filter(expiry__lt=now).delete()
    attempts, _ = IdentityAttempt.objects.filter(
        created_at__lt=now - IDENTITY_ATTEMPT_RETENTION
    ).delete()
    return {"expired_tokens": tokens, "old_identity_attempts": attempts}
