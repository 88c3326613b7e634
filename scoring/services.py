"""Writes for scoring: queueing a recompute, computing and storing snapshots, model
versions and their activation, and what-if (which stores nothing)."""

from __future__ import annotations

import datetime
import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ConsentGrant, ConsentPurpose, User
from accounts.notifications import (
    notification_email_wanted,
    notification_emails_queue,
    score_changes_notify,
)
from accounts.selectors import consent_allows
from benefits.services.unlocks import unlocks_apply
from scoring.artifacts import LoadedModel, artifact_dump, artifact_sha256
from scoring.bands import band_of
from scoring.features import DIMENSIONS, EDUCATION_RANK, INCOME_RANK, features_compute
from scoring.model_health import model_usable, model_verified
from scoring.models import ModelVersion, PendingRecompute, ScoreSnapshot
from scoring.selectors import tables_load
from sesame_portal.errors import ServiceError

if TYPE_CHECKING:
    from scoring.training import TrainingResult

logger = logging.getLogger(__name__)


RECOMPUTE_WINDOW_SECONDS = 3


def score_recompute_queue(*, user: User, trigger: str) -> bool:
    """The one place that asks for a user's score to be recomputed.

    Queued after the current transaction commits, so the worker sees the change; not
    queued at all without a current scoring consent; and at most one is waiting per user:
    changes arriving within the window ride on the recompute already queued (a
    PendingRecompute row, claimed by the task when it starts). A recompute already
    running or failed is queued afresh. Returns whether it queued.
    """
    from scoring.tasks import score_recompute_user

    if not consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        return False
    _pending, created = PendingRecompute.objects.get_or_create(user_id=user.pk)
    if not created:
        requeued = (
            PendingRecompute.objects.filter(user_id=user.pk)
            .filter(Q(started_at__isnull=False) | Q(failed_at__isnull=False))
            .update(queued_at=timezone.now(), started_at=None, failed_at=None)
        )
        if not requeued:
            return False
    user_id = user.pk
    # robust: with the broker down the change still saves; the PendingRecompute row
    # stays and the sweep publishes it again once the broker is back.
    transaction.on_commit(
        lambda: score_recompute_user.apply_async(
            (user_id, trigger), countdown=RECOMPUTE_WINDOW_SECONDS
        ),
        robust=True,
    )
    return True


def score_recompute_queue_many(*, user_ids: set[int], trigger: str) -> int:
    """score_recompute_queue for many users at once (an import): a fixed number of
    queries, one task for each consenting user that has no recompute waiting."""
    from scoring.tasks import score_recompute_user

    if not user_ids:
        return 0
    consenting = set(
        ConsentGrant.objects.current()
        .filter(purpose=ConsentPurpose.SCORING, user_id__in=user_ids)
        .values_list("user_id", flat=True)
    )
    existing = {
        user_id: started is None and failed is None
        for user_id, started, failed in PendingRecompute.objects.filter(
            user_id__in=consenting
        ).values_list("user_id", "started_at", "failed_at")
    }
    fresh = sorted(uid for uid in consenting if not existing.get(uid, False))
    again = [uid for uid in fresh if uid in existing]  # running or failed: queue afresh
    if again:
        PendingRecompute.objects.filter(user_id__in=again).update(
            queued_at=timezone.now(), started_at=None, failed_at=None
        )
    PendingRecompute.objects.bulk_create(
        [PendingRecompute(user_id=uid) for uid in fresh if uid not in existing],
        ignore_conflicts=True,
    )
    transaction.on_commit(
        lambda: [
            score_recompute_user.apply_async((user_id, trigger), countdown=RECOMPUTE_WINDOW_SECONDS)
            for user_id in fresh
        ],
        robust=True,
    )
    return len(fresh)


def scores_compute(*, model: LoadedModel, features: pd.DataFrame) -> list[dict[str, Any]]:
    """Score, band, sub-scores and the full points breakdown for every row, vectorised:
    one points lookup per feature for the whole frame."""
    card = model.scorecard
    points = card.points(features)
    totals = card.total(points)
    scores = card.scores(totals)
    dimension_scores = {}
    for dimension in DIMENSIONS:
        names = [f.name for f in card.features if f.dimension == dimension]
        if not names:
            continue
        low, high = card.dimension_range(dimension)
        sums = points[names].to_numpy().sum(axis=1)
        dimension_scores[dimension] = np.rint(
            100 * (sums - low) / (high - low) if high > low else np.full(len(sums), 50.0)
        ).astype(int)
    names = list(points.columns)
    matrix = points.to_numpy()
    raw = features[names].to_numpy(dtype=float)
    missing = np.isnan(raw)
    impacts = np.round(matrix - np.array([card.typical_points.get(n, 0.0) for n in names]), 2)
    # Largest help first, largest hurt last: every impact together is the distance
    # from the typical user.
    order = np.argsort(-impacts, axis=1, kind="stable")
    kinds = np.where(impacts > 0, "up", np.where(missing, "missing", "down"))
    codes = np.char.add(np.char.add(np.array(names, dtype=object).astype(str), "."), kinds)
    results = []
    for row, user_id in enumerate(features.index.tolist()):
        score = int(scores[row])
        values = [
            None if gap else value
            for gap, value in zip(missing[row], raw[row].tolist(), strict=True)
        ]
        results.append(
            {
                "user_id": user_id,
                "score": score,
                "band": band_of(score),
                "total_points": float(totals[row]),
                "dimensions": {d: int(v[row]) for d, v in dimension_scores.items()},
                "contributions": dict(zip(names, matrix[row].tolist(), strict=True)),
                "features": dict(zip(names, values, strict=True)),
                "reasons": [
                    {
                        "code": str(codes[row, j]),
                        "feature": names[j],
                        "impact": float(impacts[row, j]),
                    }
                    for j in order[row]
                ],
            }
        )
    return results


def _features_for(user: User, *, as_of: datetime.date | None = None) -> pd.DataFrame:
    now = timezone.now()
    day = as_of or timezone.localdate(now)
    tables = tables_load(user_ids=[user.pk], as_of=day, previous_before=now)
    return features_compute(tables, as_of=day)


def _portal_model() -> LoadedModel | None:
    # A model that fails its integrity check is never used: users keep their last good
    # scores and the admins are alerted (scoring.model_health).
    return model_usable(kind=ModelVersion.Kind.PORTAL)


def score_recompute(*, user: User, trigger: str) -> ScoreSnapshot | None:
    """Compute and store a snapshot for one user, if they consent and a good model is
    active; otherwise change nothing (the last good snapshot stays)."""
    if not consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        return None
    model = _portal_model()
    if model is None:
        return None
    with transaction.atomic():
        # One recompute per user at a time: the second waits and then sees the first.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        result = scores_compute(model=model, features=_features_for(user))[0]
        previous = (
            ScoreSnapshot.objects.filter(user=user)
            .order_by("-computed_at", "-id")
            .values_list("id", "score")
            .first()
        ) or (None, None)
        snapshot = ScoreSnapshot.objects.create(
            user=user,
            score=result["score"],
            band=result["band"],
            dimensions=result["dimensions"],
            contributions=result["contributions"],
            reasons=result["reasons"],
            features=result["features"],
            model_version_id=model.model_version_id,
            trigger=trigger[:60],
        )
        at = snapshot.computed_at
        notified = score_changes_notify(
            changes=[(user.pk, *previous, snapshot.pk, snapshot.score)], at=at
        )
        # The unlock notifications share the snapshot's moment, so one email has both.
        unlocked, locked = unlocks_apply(
            scores=[(user.pk, snapshot.score, snapshot.dimensions)], now=at
        )
        if (notified or unlocked or locked) and notification_email_wanted(user=user):
            notification_emails_queue(user_ids=[user.pk], at=at)
        return snapshot


def model_version_create(
    *,
    result: TrainingResult,
    kind: str,
    inputs: dict,
    activate: bool = False,
    by: User | None = None,
) -> ModelVersion:
    artifact = artifact_dump(scorecard=result.scorecard, kind=kind, inputs=inputs)
    sha = artifact_sha256(artifact)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    with transaction.atomic():
        version = ModelVersion.objects.create(
            version=f"{kind}-{stamp}-{sha[:8]}",
            kind=kind,
            artifact=artifact,
            sha256=sha,
            card=result.card,
        )
        if activate:
            model_version_activate(model_version=version, by=by)
    return version


def model_version_train(
    *, users: int, seed: int, challenger: bool = True, activate: bool = False
) -> ModelVersion:
    """Train a portal model on a fresh synthetic population and store it as a new
    version (the retrain task; the demo's first model)."""
    from scoring.training import dataset_synthetic, model_train

    result = model_train(dataset_synthetic(users=users, seed=seed), challenger=challenger)
    return model_version_create(
        result=result,
        kind=ModelVersion.Kind.PORTAL,
        inputs={"columns": result.scorecard.feature_names, "id_column": "id"},
        activate=activate,
    )


def model_version_activate(*, model_version: ModelVersion, by: User | None = None) -> ModelVersion:
    """Make this version the active one of its kind; the previous stays for rollback."""
    model_verified(model_version)  # never activate an artifact that does not verify
    with transaction.atomic():
        ModelVersion.objects.filter(kind=model_version.kind, is_active=True).exclude(
            pk=model_version.pk
        ).update(is_active=False)
        model_version.is_active = True
        model_version.activated_at = timezone.now()
        model_version.activated_by = by
        model_version.save(update_fields=["is_active", "activated_at", "activated_by"])
    return model_version


def _lever_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ServiceError("invalid", _("%(name)s must be true or false.") % {"name": name})
    return value


def _lever_number(value: Any, name: str, low: float, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (low <= value <= high)
        or (isinstance(value, float) and math.isnan(value))
    ):
        raise ServiceError(
            "invalid",
            _("%(name)s must be a number from %(low)s to %(high)s.")
            % {"name": name, "low": low, "high": high},
        )
    return float(value)


def _lever_choice(value: Any, name: str, ranks: dict[str, int]) -> float:
    if value not in ranks:
        raise ServiceError("invalid", _("%(name)s is not a known value.") % {"name": name})
    return float(ranks[value])


def _apply_levers(row: pd.Series, changes: dict[str, Any]) -> pd.Series:
    row = row.copy()
    for name, value in changes.items():
        if name == "repay_overdue":
            if _lever_bool(value, name) and not math.isnan(row["ch_overdue_unpaid"]):
                row["ch_overdue_unpaid"] = 0.0
        elif name == "provident_fund_months":
            row["cp_provident_fund_months"] = _lever_number(value, name, 0, 600)
        elif name == "work_email_verified":
            row["id_work_email_verified"] = float(_lever_bool(value, name))
        elif name == "income_band":
            row["cp_income_rank"] = _lever_choice(value, name, INCOME_RANK)
        elif name == "education_level":
            row["id_education_rank"] = _lever_choice(value, name, EDUCATION_RANK)
        elif name == "card_utilisation":
            utilisation = _lever_number(value, name, 0, 2)
            if not math.isnan(row["ch_card_utilisation"]):
                row["ch_card_utilisation"] = utilisation
        elif name == "years_at_address":
            row["id_years_at_address"] = _lever_number(value, name, 0, 100)
        elif name == "bills_paid_on_time":
            if _lever_bool(value, name) and not math.isnan(row["bh_bills_on_time_rate"]):
                row["bh_bills_on_time_rate"] = 1.0
        elif name == "complete_profile":
            if _lever_bool(value, name):
                row["id_profile_completion"] = 100.0
        else:
            raise ServiceError(
                "unknown_change", _("%(name)s is not something you can try.") % {"name": name}
            )
    return row


WHAT_IF_LEVERS = (
    "repay_overdue",
    "provident_fund_months",
    "work_email_verified",
    "income_band",
    "education_level",
    "card_utilisation",
    "years_at_address",
    "bills_paid_on_time",
    "complete_profile",
)


def score_what_if(*, user: User, changes: dict[str, Any]) -> dict[str, int]:
    """The score the user would have with these changes; nothing is saved."""
    if not consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        raise ServiceError(
            "consent_required", _("A score needs your consent to scoring."), status_code=403
        )
    if not isinstance(changes, dict) or not changes:
        raise ServiceError("invalid", _("Say what you would change."))
    model = _portal_model()
    if model is None:
        raise ServiceError("no_model", _("Scores are not available right now."), status_code=503)
    features = _features_for(user)
    proposed = features.copy()
    proposed.iloc[0] = _apply_levers(features.iloc[0], changes)
    card = model.scorecard
    now, then = (
        int(card.scores(card.total(card.points(frame)))[0]) for frame in (features, proposed)
    )
    return {"score": then, "delta": then - now, "current": now}
