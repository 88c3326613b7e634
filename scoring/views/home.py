"""scoring's part of the score home, read in one place for the page and its htmx poll:
the state the person is in, the score with its charts and reasons, and tips. The benefit
progress beside it is added at the top (sesame_portal/pages/home.py), since scoring
does not read benefits.

Read for speed, and never stale:

- Everything that may change from one request to the next (the identity, the scoring
  consent, the profile, the recompute status, which snapshot is the latest, what the
  records hold, what the tips read, the court list, the unread count) comes in one
  query, built once per process (`HOME_STATE`, a sesame_portal.prepared query). So a
  withdrawn consent hides the score, and a new score shows, at the very next request.
- What is drawn from a snapshot (gauge, radar, sub-scores, reasons, the history chart up
  to it) never changes once the snapshot is written: it is rendered once and cached
  under the person, the snapshot's id, the number of snapshots (so the history is the
  one up to it), the language, the time zone and the dimensions with no data yet
  (`snapshot_drawn`), with what the rest of the page needs of the snapshot; each
  process keeps the drawings it used lately, so a warm page asks Redis nothing.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db.models import OuterRef, Subquery
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from accounts.models import ConsentPurpose, Profile, User
from accounts.notifications import notifications_unread_count_at
from accounts.profile_sections import completion_percent
from accounts.selectors import consent_allows_at
from scoring import charts
from scoring.explain import breakdown as breakdown_module
from scoring.explain import reasons as reasons_module
from scoring.explain.breakdown import snapshot_breakdown
from scoring.explain.reasons import (
    DIMENSION_SHORT_LABELS,
    reason_text,
    reasons_top,
)
from scoring.explain.tips import Tip, card_utilisation, tips_for, tips_reads_at
from scoring.models import ScoreSnapshot
from scoring.selectors import (
    PROFILE_VALUES,
    court_listed_at,
    recompute_status_of,
    record_facts_at,
    record_facts_of,
    record_facts_windows,
    score_checked_at_at,
    score_checked_of,
    score_history,
    score_latest,
    score_latest_at,
    score_recompute_status_at,
)
from sesame_portal.prepared import PreparedQuery
from sesame_portal.recent import Recent

logger = logging.getLogger(__name__)

HISTORY_ON_HOME = 12
NIGHTLY_TASK = "scoring.recompute_nightly"
# A snapshot's drawings are kept a day after their last writing: the page of a person
# who comes back later draws them again (a snapshot never changes; only memory is spent).
DRAWN_SECONDS = 24 * 3600
# What a snapshot's drawings are made with (see _drawn_version).
DRAWN_TEMPLATES = (
    "scoring/charts/_gauge.html",
    "scoring/_score_sections.html",
    "scoring/charts/_radar.html",
    "scoring/charts/_history.html",
)


@dataclass
class ScoreView:
    """What the drawings of one snapshot are made from (see snapshot_drawn)."""

    snapshot: ScoreSnapshot
    gauge: charts.Gauge
    radar: charts.Radar
    dimensions: list[tuple[str, int, bool]]  # label, sub-score, no data behind it
    history: charts.History | None
    helped: list[dict]  # {text, points}
    hurt: list[dict]

    @property
    def any_without_data(self) -> bool:
        return any(no_data for _label, _value, no_data in self.dimensions)


@dataclass(frozen=True)
class ScoreShown:
    """The latest score as the home shows it: what the page and the benefits need of the
    snapshot, and its drawings (HTML, rendered once per snapshot and language)."""

    snapshot_id: int
    score: int
    band: str
    computed_at: datetime.datetime
    dimensions: dict[str, int]
    utilisation: float | None  # tips.card_utilisation
    gauge: SafeString
    sections: SafeString
    thin_file: bool


@dataclass
class ScoreHome:
    verified: bool
    scoring_allowed: bool
    completion: int
    status: str | None  # "computing", "failed" or None
    score: ScoreShown | None
    next_recompute: datetime.datetime | None
    tips: list[Tip] = field(default_factory=list)
    court_listed: bool = False
    # What eligibility needs of the identity (benefits.selectors.person_from).
    birth_date_encrypted: str | None = None
    region_code: str = ""
    unread_notifications: int = 0
    # Later than the score's own moment when a run found it unchanged since.
    checked_at: datetime.datetime | None = None

    @property
    def polling(self) -> bool:
        return self.status == "computing"


CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year", "timezone")


def nightly_crontab_at() -> dict:
    """The nightly task's crontab fields while the task is enabled, as annotations
    (`nightly_<field>`, null when disabled or not on a crontab): the score home reads
    them with its state, for nightly_next_of."""
    return {
        f"nightly_{name}": Subquery(_nightly_task().values(f"crontab__{name}")[:1])
        for name in CRONTAB_FIELDS
    }


def _nightly_task():
    return PeriodicTask.objects.filter(task=NIGHTLY_TASK, enabled=True).order_by("pk")


def nightly_next_of(row: dict, *, now: datetime.datetime) -> datetime.datetime | None:
    """nightly_next from a row read with nightly_crontab_at."""
    if row["nightly_minute"] is None:
        return None
    crontab = CrontabSchedule(**{name: row[f"nightly_{name}"] for name in CRONTAB_FIELDS})
    # Measured from `now`, not the wall clock: celery's crontab takes `now` as the last
    # run and gives the step to the next firing, in the schedule's own time zone.
    start, step, _ = crontab.schedule.remaining_delta(now)
    return start + step


def nightly_next(*, now: datetime.datetime) -> datetime.datetime | None:
    """When the nightly recompute of everyone runs next after `now`, from its beat schedule
    (which admins may change) as celery's own crontab reckons it; None when the task is
    disabled or not on a crontab."""
    task = _nightly_task().values(*(f"crontab__{name}" for name in CRONTAB_FIELDS)).first()
    row = {f"nightly_{name}": (task or {}).get(f"crontab__{name}") for name in CRONTAB_FIELDS}
    return nightly_next_of(row, now=now)


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
    # The history up to this snapshot: later ones would have a key of their own.
    recent = (
        score_history(user=user, limit=None)
        .filter(computed_at__lte=snapshot.computed_at)
        .values_list("computed_at", "score")[:HISTORY_ON_HOME]
    )
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
    )


@functools.cache
def _drawn_version() -> str:
    """A digest of what the drawings are made with (their templates, the chart and
    reason code, the translations), so that a release that changes any of them never
    shows drawings cached by the one before."""
    digest = hashlib.sha256()
    for name in DRAWN_TEMPLATES:
        digest.update(get_template(name).template.source.encode())
    for module in (charts, reasons_module, breakdown_module):
        digest.update(Path(module.__file__).read_bytes())
    for locale in settings.LOCALE_PATHS:
        for catalogue in sorted(Path(locale).glob("*/LC_MESSAGES/*.mo")):
            digest.update(catalogue.read_bytes())
    return digest.hexdigest()[:16]


def _drawn_key(user_id: int, latest_id: int, snapshots: int, without_data: frozenset[str]) -> str:
    return ":".join(
        (
            "score-home",
            _drawn_version(),
            str(user_id),  # a database restored from a backup reuses ids: never another's
            str(latest_id),
            str(snapshots),
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            ",".join(sorted(without_data)),
        )
    )


def _draw(snapshot: ScoreSnapshot, *, user: User, without_data: frozenset[str]) -> dict:
    view = score_view(snapshot, user=user, without_data=without_data)
    return {
        "snapshot_id": snapshot.pk,
        "score": snapshot.score,
        "band": snapshot.band,
        "computed_at": snapshot.computed_at,
        "dimensions": dict(snapshot.dimensions),
        "utilisation": card_utilisation(snapshot),
        "gauge": render_to_string(
            "scoring/charts/_gauge.html", {"snapshot": snapshot, "gauge": view.gauge}
        ),
        "sections": render_to_string("scoring/_score_sections.html", {"score": view}),
    }


# The drawings this process used lately, so that a warm page asks Redis nothing: about
# 10 KB each, some 5 MB a process at most.
_drawn_local = Recent(500)


def _cache_call(call, *arguments):
    """The cache is a help, not a need: when it fails the page is drawn without it."""
    try:
        return call(*arguments)
    except Exception:  # any cache failure: draw the page anyway, and say so
        logger.warning("score home drawings cache unavailable", exc_info=True)
        return None


def snapshot_drawn(
    *, user: User, latest_id: int, snapshots: int, without_data: frozenset[str]
) -> ScoreShown | None:
    """The latest snapshot as the home shows it, drawn once and then read from the cache.
    `latest_id` and `snapshots`: as just read (selectors.score_latest_at), they name the
    snapshot and the history up to it. None when it is gone (the account was just
    deleted)."""
    key = _drawn_key(user.pk, latest_id, snapshots, without_data)
    # The key as the cache stores it (with the cache's prefix): the process's own copy
    # is told apart the same way.
    local_key = cache.make_key(key)
    drawn = _drawn_local.get(local_key)
    if drawn is None:
        drawn = _cache_call(cache.get, key)
    if drawn is None:
        snapshot = score_latest(user=user)
        if snapshot is None:
            return None
        drawn = _draw(snapshot, user=user, without_data=without_data)
        if snapshot.pk != latest_id:  # one written since: it has a key of its own
            return _shown(drawn, without_data)
        _cache_call(cache.set, key, drawn, DRAWN_SECONDS)
    _drawn_local.put(local_key, drawn)
    return _shown(drawn, without_data)


def _shown(drawn: dict, without_data: frozenset[str]) -> ScoreShown:
    return ScoreShown(
        **{
            **drawn,
            "gauge": mark_safe(drawn["gauge"]),  # noqa: S308 - our own templates' output
            "sections": mark_safe(drawn["sections"]),  # noqa: S308 - as above
        },
        thin_file="credit_history" in without_data,
    )


def _home_state(
    *,
    user_id: int,
    now: datetime.datetime,
    today: datetime.date,
    year_ago: datetime.date,
    quarter_ago: datetime.date,
):
    person = OuterRef("pk")
    reads = {
        "scoring_allowed": consent_allows_at(purpose=ConsentPurpose.SCORING, user=person, at=now),
        **score_latest_at(user=person),
        **score_checked_at_at(user=person),
        "court_listed": court_listed_at("identity__id_number_hash"),
        "unread_notifications": notifications_unread_count_at(user=person),
        **score_recompute_status_at(user=person),
        **record_facts_at(
            user=person, today=today, year_ago=year_ago, quarter_ago=quarter_ago, at=now
        ),
        **tips_reads_at(user=person, today=today),
        **nightly_crontab_at(),
    }
    return (
        User.objects.filter(pk=user_id)
        .annotate(**reads)
        .values(
            *reads,
            "identity__id",
            "identity__birth_date_encrypted",
            "identity__region_code",
            "profile__id",
            *(f"profile__{name}" for name in PROFILE_VALUES),
        )
    )


HOME_STATE = PreparedQuery(
    _home_state,
    user_id=int,
    now=datetime.datetime,
    today=datetime.date,
    year_ago=datetime.date,
    quarter_ago=datetime.date,
)


def _profile(user: User, row: dict) -> Profile:
    """The profile as read with the state (profile_get's: an empty one before the first
    section is saved)."""
    if row["profile__id"] is None:
        return Profile(user_id=user.pk)
    return Profile(
        id=row["profile__id"],
        user_id=user.pk,
        **{name: row[f"profile__{name}"] for name in PROFILE_VALUES},
    )


def score_home(*, user: User, now: datetime.datetime | None = None) -> ScoreHome:
    now = now or timezone.now()
    today = timezone.localdate(now)
    (row,) = HOME_STATE.rows(user_id=user.pk, now=now, **record_facts_windows(today))
    profile = _profile(user, row)
    # The score, its status and the tips are shown only while the scoring consent is
    # current.
    allowed = bool(row["scoring_allowed"])
    verified = row["identity__id"] is not None
    home = ScoreHome(
        verified=verified,
        scoring_allowed=allowed,
        completion=completion_percent(profile),
        status=recompute_status_of(bool(row["recompute_pending"]), row["recompute_failed_at"])
        if allowed
        else None,
        score=None,
        next_recompute=nightly_next_of(row, now=now) if allowed else None,
        court_listed=bool(row["court_listed"]),
        birth_date_encrypted=row["identity__birth_date_encrypted"],
        region_code=row["identity__region_code"] or "",
        unread_notifications=row["unread_notifications"] or 0,
    )
    if not allowed:
        return home
    facts = record_facts_of(row)
    if row["latest_id"] is not None:
        home.score = snapshot_drawn(
            user=user,
            latest_id=row["latest_id"],
            snapshots=row["snapshots"],
            without_data=facts.dimensions_without_data,
        )
        if home.score is not None:
            home.checked_at = score_checked_of(home.score.computed_at, row["checked_by_run_at"])
    if verified:
        home.tips = tips_for(
            profile=profile,
            facts=facts,
            reads=row,
            utilisation=home.score.utilisation if home.score else None,
        )
    return home
