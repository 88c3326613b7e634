"""Nightly clean-up of what is no longer needed."""

from __future__ import annotations

import datetime

from django.utils import timezone
from knox.models import AuthToken

from accounts.models import (
    IdentityAttempt,
)
from accounts.services.sign_ins import sign_ins_housekeeping

IDENTITY_ATTEMPT_RETENTION = datetime.timedelta(days=30)


def accounts_housekeeping() -> dict[str, int]:
    """Delete expired API tokens, web sessions' sign-in rows past a session's life, and
    verification attempts older than the retention.

    Attempts only feed the hourly rate limit; keeping them a month covers abuse review
    without holding a record of every try for ever.
    """
    now = timezone.now()
    tokens, _ = AuthToken.objects.filter(expiry__lt=now).delete()
    attempts, _ = IdentityAttempt.objects.filter(
        created_at__lt=now - IDENTITY_ATTEMPT_RETENTION
    ).delete()
    sessions = sign_ins_housekeeping(now=now)
    return {
        "expired_tokens": tokens,
        "old_identity_attempts": attempts,
        "expired_web_sessions": sessions,
    }
