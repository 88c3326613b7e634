"""Score jobs. Thin: they take ids and call a service. Every task is safe to run twice
(the broker redelivers after a worker dies: late acknowledgement is on for all tasks)."""

from __future__ import annotations

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from accounts.models import ConsentPurpose, User
from accounts.selectors import consent_allows
from scoring import services  # through the module: tests replace score_recompute there
from scoring.pending import pending_claim, pending_done, pending_fail
from scoring.recompute import (
    recompute_chunk_failed,
    recompute_chunk_process,
    recompute_run_start,
)
from scoring.recompute import recompute_sweep as sweep

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
    """Beat: everyone, every night."""
    return recompute_run_start().pk


@shared_task(name="scoring.recompute_sweep", ignore_result=True)
def recompute_sweep() -> int:
    """Beat, every minute: re-queue chunks whose worker died or whose message was lost."""
    return sweep()


@shared_task(name="scoring.retrain", ignore_result=True)
def model_retrain(
    users: int = 50_000, seed: int = 2026, activate: bool = False, challenger: bool = True
) -> str:
    """Train a new version on a fresh synthetic population (admins activate it); like
    `train_model --no-challenger`, challenger=False skips the slow comparison."""
    return services.model_version_train(
        users=users, seed=seed, challenger=challenger, activate=activate
    ).version
