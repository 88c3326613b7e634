"""Writes for scoring: queueing a recompute, computing and storing snapshots, model
versions and their activation, and what-if (which stores nothing)."""

from __future__ import annotations

import datetime
import itertools
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Exists, IntegerField, OuterRef, Subquery, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    EMPLOYED_OCCUPATIONS,
    ConsentPurpose,
    NotificationPreference,
    Profile,
    User,
)
from accounts.notifications import score_changes_notify
from accounts.profile_sections import completion_percent
from accounts.selectors import consent_allows
from accounts.tasks import notification_emails_queue
from scoring.explain.breakdown import ARRAY_DTYPE, layout_of
from scoring.ml.artifacts import LoadedModel, artifact_dump, artifact_sha256
from scoring.ml.bands import band_of
from scoring.ml.declared import points_capped
from scoring.ml.features import (
    DECLARABLE_FEATURES,
    DIMENSIONS,
    EDUCATION_RANK,
    INCOME_RANK,
    features_compute,
    features_verified_only,
)
from scoring.ml.health import model_usable, model_verified
from scoring.models import ModelVersion, ScoreSnapshot
from scoring.selectors import RecordFacts, feature_inputs_load
from scoring.services.snapshot_history import snapshots_supersede
from scoring.signals import scores_written
from sesame_portal.bulk import copy_insert, ids_lookup
from sesame_portal.errors import ServiceError

if TYPE_CHECKING:
    from scoring.ml.scorecard import Scorecard
    from scoring.ml.training import TrainingResult

logger = logging.getLogger(__name__)


def points_of(
    card: Scorecard, features: pd.DataFrame, verified: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each feature's points for every row, what declared answers do held to the cap
    (scoring.ml.declared): the one way a person's points are counted, for their
    recompute, the nightly chunk and what-if alike."""
    points = card.points(features)
    return points_capped(points, None if verified is None else card.points(verified))


@dataclass(frozen=True)
class Scored:
    """Rows scored together, kept as arrays from the points lookup to the COPY: no
    per-row dictionaries of points or reasons (the reasons are derived when a snapshot is
    read, scoring.explain.breakdown). `points` and `values` have a row per user and a
    column per feature in the scorecard's order (the model version's points_layout);
    a missing value is NaN."""

    user_ids: list[int]
    scores: np.ndarray  # int
    totals: np.ndarray  # points before scaling
    dimensions: dict[str, np.ndarray]  # sub-scores (0-100) by dimension
    points: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.user_ids)

    def rows(self, selected: np.ndarray) -> Scored:
        """Only these rows (a boolean mask or positions)."""
        return Scored(
            user_ids=np.asarray(self.user_ids)[selected].tolist(),
            scores=self.scores[selected],
            totals=self.totals[selected],
            dimensions={d: v[selected] for d, v in self.dimensions.items()},
            points=self.points[selected],
            values=self.values[selected],
        )

    def dimensions_by_row(self) -> list[dict[str, int]]:
        """Each row's sub-scores as stored (a small JSON object) and as the apps above
        receive them."""
        names = list(self.dimensions)
        if not names:
            return [{} for _ in self.user_ids]
        columns = np.column_stack([self.dimensions[d] for d in names]).tolist()
        return [dict(zip(names, row, strict=True)) for row in columns]


def scores_compute(
    *, model: LoadedModel, features: pd.DataFrame, verified: pd.DataFrame | None = None
) -> Scored:
    """Score, sub-scores and the full points breakdown for every row, vectorised: one
    points lookup per feature for the whole frame. `verified`: the same rows from
    verified data only (features_verified_only), so that declared answers count within
    their cap; None when every value is verified."""
    card = model.scorecard
    points = points_of(card, features, verified)
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
    return Scored(
        user_ids=features.index.tolist(),
        scores=np.asarray(scores, dtype=int),
        totals=np.asarray(totals, dtype=float),
        dimensions=dimension_scores,
        points=np.ascontiguousarray(points.to_numpy(dtype=ARRAY_DTYPE)),
        values=np.ascontiguousarray(features.reindex(columns=names).to_numpy(dtype=ARRAY_DTYPE)),
    )


def _features_for(
    user: User, *, as_of: datetime.date | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One user's features, and the same from verified data only."""
    now = timezone.now()
    day = as_of or timezone.localdate(now)
    inputs = feature_inputs_load(user_ids=[user.pk], as_of=day, previous_before=now)
    features = features_compute(inputs, as_of=day)
    return features, features_verified_only(inputs, features)


def score_recompute(*, user: User, trigger: str) -> ScoreSnapshot | None:
    """Compute and store a snapshot for one user, if they consent and a good model is
    active; otherwise change nothing (the last good snapshot stays). The nightly run's
    pipeline for a batch of one (snapshots_write_and_follow_up)."""
    if not consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        return None
    model = model_usable()
    if model is None:
        return None
    with transaction.atomic():
        # One recompute per user at a time: the second waits and then sees the first, so
        # neither loses the other's change.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        features, verified = _features_for(user)
        scored = scores_compute(model=model, features=features, verified=verified)
        [snapshot] = snapshots_write_and_follow_up(
            scored=scored,
            model_version_id=model.model_version_id,
            trigger=trigger,
            computed_at=timezone.now(),
            instances=True,
        )
        return snapshot


_SNAPSHOT_COLUMNS = (
    "user_id",
    "score",
    "band",
    "dimensions",
    "feature_points",
    "feature_values",
    "model_version_id",
    "trigger",
    "computed_at",
    "run_id",
)
_SNAPSHOT_JSON = frozenset({"dimensions"})


def snapshots_insert(
    scored: Scored,
    *,
    model_version_id: int,
    trigger: str,
    computed_at: datetime.datetime,
    run_id: int | None,
) -> None:
    """Insert a snapshot for every scored row (a run's chunk is written once: see
    scoring.services.recompute.recompute_chunk_process).

    Streamed with COPY on PostgreSQL (see sesame_portal.bulk.copy_insert), straight from
    the arrays: each row's points and values are bytes of the score's arrays.
    """
    bands = [band_of(score) for score in scored.scores.tolist()]
    copy_insert(
        ScoreSnapshot,
        _SNAPSHOT_COLUMNS,
        zip(
            scored.user_ids,
            scored.scores.tolist(),
            bands,
            scored.dimensions_by_row(),
            [row.tobytes() for row in scored.points],
            [row.tobytes() for row in scored.values],
            itertools.repeat(model_version_id),
            itertools.repeat(trigger),
            itertools.repeat(computed_at),
            itertools.repeat(run_id),
            strict=False,
        ),
        json_columns=_SNAPSHOT_JSON,
    )


class _Latest(NamedTuple):
    snapshot_id: int
    score: int
    model_version_id: int
    points: bytes | memoryview | None
    by_email: bool


def _latest_snapshots(user_ids: list[int]) -> dict[int, _Latest]:
    """Each user's latest snapshot, as far as a run compares it, and whether they want
    email. One query: a probe into the (user, computed_at) index per user (on PostgreSQL
    a LATERAL join, which its planner cannot turn into a scan of every snapshot)."""
    if connection.vendor == "postgresql":
        # The models' own tables, never input.
        sql = (
            "SELECT s.user_id, s.id, s.score, s.model_version_id, s.feature_points, "  # noqa: S608
            f"EXISTS (SELECT 1 FROM {NotificationPreference._meta.db_table} p "
            "WHERE p.user_id = s.user_id AND p.by_email) "
            "FROM unnest(%s::bigint[]) AS u(id) CROSS JOIN LATERAL ("
            "SELECT id, user_id, score, model_version_id, feature_points "
            f"FROM {ScoreSnapshot._meta.db_table} WHERE user_id = u.id AND current "
            "ORDER BY computed_at DESC, id DESC LIMIT 1) s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(user_ids)])
            return {row[0]: _Latest(*row[1:]) for row in cursor.fetchall()}
    latest = ScoreSnapshot.objects.filter(user_id=OuterRef("pk"), current=True).order_by(
        "-computed_at", "-id"
    )
    ids = (
        User.objects.filter(**ids_lookup(user_ids, "pk"))
        .annotate(latest=Subquery(latest.values("id")[:1]))
        .values("latest")
    )
    rows = (
        ScoreSnapshot.objects.filter(pk__in=ids)
        .annotate(
            by_email=Exists(
                NotificationPreference.objects.filter(user_id=OuterRef("user_id"), by_email=True)
            )
        )
        .values_list("user_id", "id", "score", "model_version_id", "feature_points", "by_email")
    )
    wanted = set(user_ids)
    return {row[0]: _Latest(*row[1:]) for row in rows if row[0] in wanted}


def scores_unchanged(
    scored: Scored, *, latest: dict[int, _Latest], model_version_id: int
) -> np.ndarray:
    """For each row, whether the user's latest snapshot already says the same: the same
    model version, score and points by feature (the sub-scores follow from the points
    under one model). Compared as arrays."""
    rows = len(scored)
    width = scored.points.shape[1] * ARRAY_DTYPE.itemsize
    blank = bytes(width)
    known = np.zeros(rows, dtype=bool)
    same_model = np.zeros(rows, dtype=bool)
    scores = np.full(rows, -1)
    stored = []
    for row, user_id in enumerate(scored.user_ids):
        previous = latest.get(user_id)
        points = None if previous is None else previous.points
        if points is None or len(points) != width:
            stored.append(blank)
            continue
        known[row] = True
        same_model[row] = previous.model_version_id == model_version_id
        scores[row] = previous.score
        stored.append(bytes(points))
    before = np.frombuffer(b"".join(stored), dtype=ARRAY_DTYPE).reshape(scored.points.shape)
    same_points = np.all(before == scored.points, axis=1)
    return known & same_model & (scores == scored.scores) & same_points


class _Written(NamedTuple):
    user_id: int
    previous_id: int | None
    previous_score: int | None
    snapshot_id: int
    score: int
    by_email: bool
    superseded: bool  # a newer snapshot of the user is already committed


def _snapshots_written(
    *,
    user_ids: list[int],
    computed_at: datetime.datetime,
    run_id: int | None,
    latest: dict[int, _Latest] | None = None,
) -> list[_Written]:
    """The snapshots this call wrote, each with the user's previous snapshot (from
    `latest`, their latest as read before the write, when given), whether they want email
    and whether a newer snapshot supersedes it (it is not current). One query: each user's
    snapshots are probes into the (user, computed_at) index."""
    previous = ScoreSnapshot.objects.filter(
        user_id=OuterRef("user_id"), computed_at__lt=OuterRef("computed_at")
    ).order_by("-computed_at", "-id")
    before = {
        "previous_id": Subquery(previous.values("id")[:1]),
        "previous_score": Subquery(previous.values("score")[:1]),
    }
    if latest is not None:
        # Known already: each probe above would visit every month of the history.
        before = {name: Value(None, IntegerField()) for name in before}
    rows = (
        # The run is checked below, not in SQL: PostgreSQL's statistics cannot know a run
        # that started tonight, so it would scan the run's index, ever longer as the
        # night goes on, instead of probing the users' own index.
        ScoreSnapshot.objects.filter(user_id__in=user_ids, computed_at=computed_at)
        .annotate(
            **before,
            by_email=Exists(
                NotificationPreference.objects.filter(user_id=OuterRef("user_id"), by_email=True)
            ),
        )
        .values_list(
            "user_id",
            "previous_id",
            "previous_score",
            "id",
            "score",
            "by_email",
            "current",
            "run_id",
        )
    )
    written = [_Written(*row[:6], not row[6]) for row in rows if row[7] == run_id]
    if latest is None:
        return written
    return [
        row._replace(previous_id=known.snapshot_id, previous_score=known.score)
        if (known := latest.get(row.user_id))
        else row
        for row in written
    ]


def snapshots_write_and_follow_up(
    *,
    scored: Scored,
    model_version_id: int,
    trigger: str,
    computed_at: datetime.datetime,
    run_id: int | None = None,
    instances: bool = False,
    only_changes: bool = False,
) -> list[ScoreSnapshot] | int:
    """Store scored rows (see scores_compute) as snapshots of one moment, and follow them
    up: a notification for each changed score, `scoring.signals.scores_written` for the
    apps above (benefits opens and closes unlocks on it), and one email task for the users
    who asked for email. The one pipeline
    from scores to writes, for a nightly chunk and for one user (a batch of one).

    One transaction (a chunk's is the one that claims it), so a chunk delivered again
    finds all of it written or none; a fixed number of queries for any number of rows
    (COPY on PostgreSQL). A
    snapshot that a newer one, committed meanwhile by another recompute, supersedes is
    stored as history but followed up by nobody: the newer score's notification and
    unlocks stand. Returns how many snapshots this call wrote, or with `instances` the
    snapshots themselves, saved (a chunk has no use for thousands of model instances).

    `only_changes` (the runs of everyone): a user whose latest snapshot already says the
    same (scores_unchanged) gets no new one; the run's done chunk records that they were
    checked (scoring.selectors.score_checked_at). The apps above still follow their
    unchanged score, so a benefit published or ended since is applied to them too.
    """
    trigger = trigger[:60]
    if not len(scored):
        return [] if instances else 0
    # A transaction of its own for a chunk; inside the per-user recompute's, no savepoint
    # (nothing here is retried on an error: it ends the recompute).
    with transaction.atomic(savepoint=False):
        checked: dict[int, _Latest] = {}
        writing = scored
        latest = None
        if only_changes:
            latest = _latest_snapshots(scored.user_ids)
            unchanged = scores_unchanged(scored, latest=latest, model_version_id=model_version_id)
            checked = {
                user_id: latest[user_id]
                for user_id in np.asarray(scored.user_ids)[unchanged].tolist()
            }
            writing = scored.rows(~unchanged)
        snapshots_insert(
            writing,
            model_version_id=model_version_id,
            trigger=trigger,
            computed_at=computed_at,
            run_id=run_id,
        )
        snapshots_supersede(user_ids=writing.user_ids)
        written = {
            row.user_id: row
            for row in _snapshots_written(
                user_ids=writing.user_ids, computed_at=computed_at, run_id=run_id, latest=latest
            )
        }
        current = [row for row in written.values() if not row.superseded]
        notified = score_changes_notify(changes=[row[:5] for row in current], at=computed_at)
        # The apps above follow the new scores (benefits opens and closes unlocks), and the
        # unchanged ones of a run; what they record shares the snapshots' moment, so one
        # email has both.
        followed = scores_written.send(
            ScoreSnapshot,
            scores=[
                (user_id, score, dimensions)
                for user_id, score, dimensions in zip(
                    scored.user_ids,
                    scored.scores.tolist(),
                    scored.dimensions_by_row(),
                    strict=True,
                )
                if user_id in checked or (user_id in written and not written[user_id].superseded)
            ],
            at=computed_at,
        )
        # One email task, for the users who asked for email: it finds their score and
        # benefit notifications by the snapshots' moment.
        emailed = [row.user_id for row in current if row.by_email]
        emailed += [user_id for user_id, row in checked.items() if row.by_email]
        if emailed and (notified or any(changes for _receiver, changes in followed)):
            notification_emails_queue(user_ids=emailed, at=computed_at)
    if not instances:
        return len(written)
    saved = []
    dimensions = scored.dimensions_by_row()
    for row, user_id in enumerate(scored.user_ids):
        if user_id not in written:
            continue
        score = int(scored.scores[row])
        snapshot = ScoreSnapshot(
            pk=written[user_id].snapshot_id,
            user_id=user_id,
            score=score,
            band=band_of(score),
            dimensions=dimensions[row],
            feature_points=scored.points[row].tobytes(),
            feature_values=scored.values[row].tobytes(),
            model_version_id=model_version_id,
            trigger=trigger,
            computed_at=computed_at,
            run_id=run_id,
        )
        snapshot._state.adding = False
        snapshot._state.db = ScoreSnapshot.objects.db
        saved.append(snapshot)
    return saved


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
            points_layout=layout_of(result.scorecard),
        )
        if activate:
            model_version_activate(model_version=version, by=by)
    return version


def model_version_train(
    *, users: int, seed: int, challenger: bool = True, activate: bool = False
) -> ModelVersion:
    """Train a portal model on a fresh synthetic population and store it as a new
    version (the retrain task; the demo's first model)."""
    from scoring.ml.training import dataset_synthetic, model_train

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


def what_if_levers_for(*, facts: RecordFacts, profile: Profile) -> tuple[str, ...]:
    """The levers that can move this person's score, in WHAT_IF_LEVERS order: repaying
    only with something overdue, bills only when bills count, card use only with an open
    card, the work email only while there is one to verify, the profile only while it is
    incomplete. The others (income, education, provident fund, years at the address)
    always apply."""
    applies = {
        "repay_overdue": facts.overdue_unpaid,
        "bills_paid_on_time": facts.bills,
        "card_utilisation": facts.open_cards,
        "work_email_verified": profile.work_email_verified_at is None
        and profile.occupation in ("", *EMPLOYED_OCCUPATIONS),
        "complete_profile": completion_percent(profile) < 100,
    }
    return tuple(name for name in WHAT_IF_LEVERS if applies.get(name, True))


def score_what_if(*, user: User, changes: dict[str, Any]) -> dict[str, Any]:
    """The score the user would have with these changes, its band, and what each change
    would do alone, in points (`levers`, in the order given); nothing is saved."""
    if not consent_allows(user=user, purpose=ConsentPurpose.SCORING):
        raise ServiceError(
            "consent_required", _("A score needs your consent to scoring."), status_code=403
        )
    if not isinstance(changes, dict) or not changes:
        raise ServiceError("invalid", _("Say what you would change."))
    model = model_usable()
    if model is None:
        raise ServiceError("no_model", _("Scores are not available right now."), status_code=503)
    features, verified = _features_for(user)
    return what_if_scored(model=model, features=features, verified=verified, changes=changes)


def what_if_scored(
    *,
    model: LoadedModel,
    features: pd.DataFrame,
    verified: pd.DataFrame | None,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """What-if on one person's features (a frame of one row, and the same from verified
    data only): the score now, with the changes, and with each change alone. The one
    place levers are applied and scored; score_what_if reads the features as they are
    today, the goal planner (scoring.services.outlook) as they will be when late records
    leave their windows."""
    proposed = features.copy()
    proposed.iloc[0] = _apply_levers(features.iloc[0], changes)
    card = model.scorecard

    def score_of(frame: pd.DataFrame) -> int:
        base = _verified_after_levers(features, frame, verified)
        return int(card.scores(card.total(points_of(card, frame, base)))[0])

    now = int(card.scores(card.total(points_of(card, features, verified)))[0])
    then = score_of(proposed)
    # Each change alone too: a person sees what each one is worth, in points.
    alone = {}
    for name, value in changes.items():
        one = features.copy()
        one.iloc[0] = _apply_levers(features.iloc[0], {name: value})
        alone[name] = score_of(one)
    return {
        "score": then,
        "delta": then - now,
        "current": now,
        "band": band_of(then),
        "levers": [{"lever": name, "points": score - now} for name, score in alone.items()],
    }


def _verified_after_levers(
    features: pd.DataFrame, proposed: pd.DataFrame, verified: pd.DataFrame | None
) -> pd.DataFrame | None:
    """The verified-only features after the levers: an answer the person would change
    becomes a declared one (only its earlier verified value goes; a completer profile
    adds declared answers), while data from sources (repayments, a verified work email)
    counts fully."""
    if verified is None:
        return None
    after = verified.copy()
    for name in features.columns:
        before, then = features[name].iloc[0], proposed[name].iloc[0]
        if before == then or (pd.isna(before) and pd.isna(then)):
            continue
        if name not in DECLARABLE_FEATURES:
            after[name] = proposed[name]
        elif name != "id_profile_completion":
            after[name] = np.nan
    return after
