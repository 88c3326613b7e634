"""Writes for scoring."""

from __future__ import annotations

from django.db import transaction

from accounts.models import ConsentPurpose, User
from accounts.selectors import consent_allows


def score_recompute_queue(*, user: User, trigger: str) -> bool:
    """The one place that asks for a user's score to be recomputed.

    Queued after the current transaction commits, so the worker sees the change; not
    queued at all without a current scoring consent. Returns whether it was queued.
    """
    from scoring.tasks import score_recompute_user

    if not consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        return False
    user_id = user.pk
    transaction.on_commit(lambda: score_recompute_user.delay(user_id, trigger))
    return True
