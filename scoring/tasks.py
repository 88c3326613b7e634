"""Score jobs. Thin: they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from accounts.models import User


@shared_task(name="scoring.recompute_user", ignore_result=True)
def score_recompute_user(user_id: int, trigger: str) -> str:
    """Recompute one user's score after a change that matters."""
    from scoring.services import score_recompute

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return "no_user"
    snapshot = score_recompute(user=user, trigger=trigger)
    return "computed" if snapshot else "skipped"


@shared_task(name="scoring.retrain", ignore_result=True)
def model_retrain(users: int = 50_000, seed: int = 2026, activate: bool = False) -> str:
    """Train a new version on a fresh synthetic population (admins activate it)."""
    from scoring.models import ModelVersion
    from scoring.services import model_version_create
    from scoring.training import dataset_synthetic, model_train

    result = model_train(dataset_synthetic(users=users, seed=seed))
    version = model_version_create(
        result=result,
        kind=ModelVersion.Kind.PORTAL,
        inputs={"columns": result.scorecard.feature_names, "id_column": "id"},
        activate=activate,
    )
    return version.version
