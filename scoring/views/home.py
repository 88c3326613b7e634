"""scoring's part of the score home, read in one place for the page and its htmx poll:
the state the person is in, the score with its charts and reasons, and tips. A fixed
number of queries, whatever the history's length. The benefit progress beside it is added
at the top (sesame_portal/pages/home.py), since scoring does not read benefits."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts import selectors as accounts_selectors
from accounts.models import ConsentPurpose, User
from accounts.profile_sections import completion_percent
from scoring import charts
from scoring.explain.breakdown import snapshot_breakdown
from scoring.explain.reasons import (
    DIMENSION_SHORT_LABELS,
    reason_text,
    reasons_top,
)
from scoring.explain.tips import Tip, tips_for
from scoring.models import ScoreSnapshot
from scoring.selectors import (
    record_facts,
    score_checked_at,
    score_history,
    score_latest,
    score_recompute_status,
)

HISTORY_ON_HOME = 12
NIGHTLY_TASK = "scoring.recompute_nightly"


@dataclass
class ScoreView:
    snapshot: ScoreSnapshot
    gauge: charts.Gauge
    radar: charts.Radar
    dimensions: list[tuple[str, int, bool]]  # label, sub-score, no data behind it
    history: charts.History | None
    helped: list[dict]  # {text, points}
    hurt: list[dict]
    thin_file: bool

    @property
    def any_without_data(self) -> bool:
        return any(no_data for _label, _value, no_data in self.dimensions)


@dataclass
class ScoreHome:
    identity: object | None
    scoring_allowed: bool
    completion: int
    status: str | None  # "computing", "failed" or None
    score: ScoreView | None
    next_recompute: datetime.datetime | None
    tips: list[Tip] = field(default_factory=list)
    # Later than the score's own moment when a run found it unchanged since.
    checked_at: datetime.datetime | None = None

    @property
    def polling(self) -> bool:
        return self.status == "computing"


def nightly_next(*, now: datetime.datetime) -> datetime.datetime | None:
    """When the nightly recompute of everyone runs next after `now`, from its beat schedule
    (which admins may change) as celery's own crontab reckons it; None when the task is
    disabled or not on a crontab."""
    task = (
        PeriodicTask.objects.filter(task=NIGHTLY_TASK, enabled=True)
        .select_related("crontab")
        .order_by("pk")
        .first()
    )
    if task is None or task.crontab is None:
        return None
    # Measured from `now`, not the wall clock: celery's crontab takes `now` as the last
    # run and gives the step to the next firing, in the schedule's own time zone.
    start, step, _ = task.crontab.schedule.remaining_delta(now)
    return start + step


def _reasons(rows: list[dict]) -> list[dict]:
    """Text and size in whole points (at least 1: a listed reason moved the score)."""
    return [
        {"text": reason_text(r["code"]), "points": max(1, round(abs(r["impact"])))} for r in rows
    ]


def score_view(snapshot: ScoreSnapshot, *, user: User, without_data: frozenset[str]) -> ScoreView:
    """without_data: the dimensions with nothing of the person's behind them
    (RecordFacts.dimensions_without_data), shown greyed as "no data yet", not a number."""
    # One set of names for the radar and the bars beside it (the short ones fit both).
    labels = {key: str(DIMENSION_SHORT_LABELS.get(key, key)) for key in snapshot.dimensions}
    dimensions = [
        (labels[key], int(value), key in without_data) for key, value in snapshot.dimensions.items()
    ]
    recent = score_history(user=user, limit=HISTORY_ON_HOME).values_list("computed_at", "score")
    helped, hurt = reasons_top(snapshot_breakdown(snapshot).reasons)
    return ScoreView(
        snapshot=snapshot,
        gauge=charts.gauge(snapshot.score),
        radar=charts.radar(
            [(labels[k], int(v)) for k, v in snapshot.dimensions.items()],
            no_data=[k in without_data for k in snapshot.dimensions],
        ),
        dimensions=dimensions,
        history=charts.history(list(recent)),
        helped=_reasons(helped),
        hurt=_reasons(hurt),
        thin_file="credit_history" in without_data,
    )


def score_home(*, user: User, now: datetime.datetime | None = None) -> ScoreHome:
    now = now or timezone.now()
    identity = accounts_selectors.identity_for_user(user=user)
    allowed = accounts_selectors.consent_allows(user=user, purpose=ConsentPurpose.SCORING)
    profile = accounts_selectors.profile_get(user=user)
    # The score is shown only while the scoring consent is current.
    snapshot = score_latest(user=user) if allowed else None
    facts = record_facts(user=user, today=timezone.localdate(now)) if allowed else None
    home = ScoreHome(
        identity=identity,
        scoring_allowed=allowed,
        completion=completion_percent(profile),
        status=score_recompute_status(user=user) if allowed else None,
        score=score_view(snapshot, user=user, without_data=facts.dimensions_without_data)
        if snapshot
        else None,
        next_recompute=nightly_next(now=now) if allowed else None,
        checked_at=score_checked_at(user_id=user.pk, snapshot=snapshot) if snapshot else None,
    )
    if identity is not None and allowed:
        home.tips = tips_for(
            user=user,
            profile=profile,
            snapshot=snapshot,
            today=timezone.localdate(now),
            facts=facts,
        )
    return home
