"""The states of a per-user recompute (a PendingRecompute row), moved only here.

queued (started_at empty) → running (`pending_claim`, started_at set) → done (the row is
deleted, `pending_done`) or failed (`pending_fail`, failed_at set). Queueing again
(`pending_queue`) leaves a queued row alone (the change rides on it) and puts a running
or failed one back to queued; the sweep re-publishes rows whose message was lost
(`pending_requeue`). Callers publish the task; these functions only write the rows.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from scoring.models import PendingRecompute

_RUNNING_OR_FAILED = Q(started_at__isnull=False) | Q(failed_at__isnull=False)


def pending_queue(*, user_ids: Iterable[int]) -> list[int]:
    """Queue a recompute for each of these users; return those that need a task
    published, in order: users with nothing pending, and users whose recompute is running
    or failed (queued afresh). Users with one already queued ride on it. A fixed number
    of queries for any number of users."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    held = {
        user_id: started is not None or failed is not None
        for user_id, started, failed in PendingRecompute.objects.filter(
            user_id__in=ids
        ).values_list("user_id", "started_at", "failed_at")
    }
    again = [user_id for user_id, running_or_failed in held.items() if running_or_failed]
    if again:
        PendingRecompute.objects.filter(_RUNNING_OR_FAILED, user_id__in=again).update(
            queued_at=timezone.now(), started_at=None, failed_at=None
        )
    fresh = [user_id for user_id in ids if user_id not in held]
    PendingRecompute.objects.bulk_create(
        [PendingRecompute(user_id=user_id) for user_id in fresh], ignore_conflicts=True
    )
    return sorted(again + fresh)


def pending_claim(*, user_id: int) -> datetime.datetime:
    """The worker starts the user's recompute: from here on a new change queues a new
    one (it clears started_at). Returns the moment of the claim, which names this run's
    row for `pending_fail` and `pending_done`: a change queued meanwhile is left alone."""
    started = timezone.now()
    PendingRecompute.objects.filter(user_id=user_id).update(started_at=started, failed_at=None)
    return started


def pending_fail(*, user_id: int, claimed_at: datetime.datetime | None = None) -> None:
    """The recompute failed (no good model, or the worker gave up after its last retry):
    the score home stops waiting and says so. Only the run claimed at `claimed_at` when
    given; otherwise whatever is running for the user."""
    rows = PendingRecompute.objects.filter(user_id=user_id, started_at__isnull=False)
    if claimed_at is not None:
        rows = rows.filter(started_at=claimed_at)
    rows.update(failed_at=timezone.now())


def pending_done(*, user_id: int, claimed_at: datetime.datetime) -> None:
    """The recompute claimed at `claimed_at` finished: nothing is pending for the user
    any more, unless a change queued another meanwhile (that row is left alone)."""
    PendingRecompute.objects.filter(user_id=user_id, started_at=claimed_at).delete()


def pending_requeue(*, cutoff: datetime.datetime, limit: int = 10_000) -> list[int]:
    """Recomputes queued before `cutoff` that never started, or started before it and
    never finished or failed (their message or worker was lost), queued again; returns
    their users, for the caller to publish again."""
    stale = list(
        PendingRecompute.objects.filter(
            Q(started_at__isnull=True) | Q(started_at__lt=cutoff),
            queued_at__lt=cutoff,
            failed_at__isnull=True,
        ).values_list("user_id", flat=True)[:limit]
    )
    if stale:
        PendingRecompute.objects.filter(user_id__in=stale).update(
            queued_at=timezone.now(), started_at=None
        )
    return stale
