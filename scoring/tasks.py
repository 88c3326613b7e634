"""Score jobs, and the functions that queue them.

Only this module talks to the broker: code that wants a recompute calls the queue
functions below (`score_recompute_queue`, `recompute_run_start`); the tasks are thin, they
take ids and call a service, and no service imports this module, so nothing loops. Every
task is safe to run twice (the broker redelivers after a worker dies: late
acknowledgement is on for all tasks)."""

from __future__ import annotations

import datetime

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError, transaction

from accounts.models import ConsentPurpose, User
from accounts.selectors import consent_allows, users_consenting_to_scoring
from scoring.models import RecomputeRun
from scoring.services import scores as services  # tests replace score_recompute there
from scoring.services.dispute_notices import TRIGGER_OVERDUE, disputes_overdue_mark
from scoring.services.pending import pending_claim, pending_done, pending_fail, pending_queue
from scoring.services.recompute import (
    CHUNK_SIZE,
    STALE_AFTER,
    recompute_chunk_failed,
    recompute_chunk_process,
    recompute_run_create,
    recompute_stale_claim,
)
from scoring.services.snapshot_history import snapshot_history_maintain

# Changes arriving within this many seconds ride on one recompute.
RECOMPUTE_WINDOW_SECONDS = 3

# Transient: the database restarting or a lock timing out. Anything else is a bug and
# should fail loudly instead of looping.
TRANSIENT = (OperationalError, InterfaceError)


class _UserRecomputeTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Called once, after the last retry: the score home stops waiting and says so.
        pending_fail(user_id=args[0] if args else kwargs.get("user_id"))


@shared_task(
    base=_UserRecomputeTask,
    name="scoring.recompute_user",
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def score_recompute_user(user_id: int, trigger: str) -> str:
    """Recompute one user's score after a change that matters."""
    claimed_at = pending_claim(user_id=user_id)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return "no_user"
    snapshot = services.score_recompute(user=user, trigger=trigger)
    if snapshot is None and consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        # No good model is active: the last good score stays, and the user is told.
        pending_fail(user_id=user_id, claimed_at=claimed_at)
        return "no_model"
    pending_done(user_id=user_id, claimed_at=claimed_at)
    return "computed" if snapshot else "skipped"


@shared_task(
    name="scoring.recompute_chunk",
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def recompute_chunk(chunk_id: int) -> int:
    try:
        return recompute_chunk_process(chunk_id=chunk_id)
    except Exception:
        recompute_chunk_failed(chunk_id=chunk_id)
        raise


@shared_task(name="scoring.recompute_nightly", ignore_result=True)
def recompute_nightly() -> int:
    """Beat: everyone, every night; first the history's months ahead are made and those
    past the retention dropped (scoring.services.snapshot_history)."""
    snapshot_history_maintain()
    return recompute_run_start().pk


@shared_task(name="scoring.recompute_sweep", ignore_result=True)
def recompute_sweep() -> int:
    """Beat, every minute: re-queue chunks whose worker died or whose message was lost."""
    return recompute_stale_requeue()


@shared_task(
    name="scoring.disputes_overdue_mark",
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def disputes_overdue() -> int:
    """Beat, every 15 minutes: disputes that just passed their deadline unanswered."""
    return disputes_overdue_queue()


@shared_task(name="scoring.retrain", ignore_result=True)
def model_retrain(
    users: int = 50_000, seed: int = 2026, activate: bool = False, challenger: bool = True
) -> str:
    """Train a new version on a fresh synthetic population (admins activate it); like
    `train_model --no-challenger`, challenger=False skips the slow comparison."""
    return services.model_version_train(
        users=users, seed=seed, challenger=challenger, activate=activate
    ).version


# --- Queueing ---------------------------------------------------------------------------


def score_recompute_queue(*, user: User, trigger: str) -> bool:
    """The one place that asks for a user's score to be recomputed; returns whether it
    queued (see score_recompute_queue_many)."""
    return score_recompute_queue_many(user_ids={user.pk}, trigger=trigger) == 1


def score_recompute_queue_many(*, user_ids: set[int], trigger: str) -> int:
    """Ask for these users' scores to be recomputed (a change, or an import): a fixed
    number of queries for any number of users. Returns how many were queued.

    Queued after the current transaction commits, so the worker sees the change; not
    queued at all without a current scoring consent; and at most one is waiting per user:
    changes arriving within the window ride on the recompute already queued (a
    PendingRecompute row, claimed by the task when it starts). A recompute already
    running or failed is queued afresh (scoring.services.pending).
    """
    if not user_ids:
        return 0
    consenting = users_consenting_to_scoring().filter(user_id__in=user_ids)
    fresh = pending_queue(user_ids=consenting)
    # robust: with the broker down the change still saves; the PendingRecompute rows
    # stay and the sweep publishes them again once the broker is back.
    transaction.on_commit(
        lambda: [
            score_recompute_user.apply_async((user_id, trigger), countdown=RECOMPUTE_WINDOW_SECONDS)
            for user_id in fresh
        ],
        robust=True,
    )
    return len(fresh)


def recompute_run_start(
    *, kind: str = RecomputeRun.Kind.NIGHTLY, chunk_size: int = CHUNK_SIZE
) -> RecomputeRun:
    """Create a run and its chunks, and queue one task per chunk after commit."""
    run, chunk_ids = recompute_run_create(kind=kind, chunk_size=chunk_size)
    # robust: the sweep re-queues chunks whose message never left.
    transaction.on_commit(lambda: [recompute_chunk.delay(pk) for pk in chunk_ids], robust=True)
    return run


def disputes_overdue_queue() -> int:
    """Mark the disputes that just passed their deadline unanswered (their owners are
    told) and recompute the people whose disputed record thereby leaves their score, with
    the trigger that says so in their history. Returns how many people were queued.
    One transaction: a dispute is never marked without its recompute asked for."""
    with transaction.atomic():
        return score_recompute_queue_many(user_ids=disputes_overdue_mark(), trigger=TRIGGER_OVERDUE)


def recompute_stale_requeue(*, stale_after: datetime.timedelta = STALE_AFTER) -> int:
    """Queue again the chunks of unfinished runs that have waited too long (their worker
    died, or the broker lost the message) and per-user recomputes stuck the same way.
    Returns how many were re-queued."""
    chunk_ids, user_ids = recompute_stale_claim(stale_after=stale_after)
    for pk in chunk_ids:
        recompute_chunk.delay(pk)
    for user_id in user_ids:
        score_recompute_user.delay(user_id, "requeued")
    return len(chunk_ids) + len(user_ids)
