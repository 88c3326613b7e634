"""The score history by month (scoring.services.snapshot_history): each person's latest
snapshot stays current, the rest is history, which on PostgreSQL lives in one partition a
month and ages out a month at a time; a current score never ages out."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scoring.models import ScoreSnapshot
from scoring.selectors import score_latest, snapshots_latest_first
from scoring.services.snapshot_history import (
    HISTORY_DEFAULT,
    snapshot_history_prune,
    snapshot_months_ensure,
    snapshots_supersede,
)
from tests.factories import ScoreSnapshotFactory, UserFactory

pytestmark = pytest.mark.django_db

postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the partitions are PostgreSQL's"
)

TODAY = datetime.date(2026, 12, 7)


def _at(year: int, month: int, day: int = 15) -> datetime.datetime:
    return datetime.datetime(year, month, day, 12, tzinfo=datetime.UTC)


def _partition_of(snapshot: ScoreSnapshot) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {ScoreSnapshot._meta.db_table} WHERE id = %s",  # noqa: S608
            [snapshot.pk],
        )
        return cursor.fetchone()[0]


def _current(user) -> list[int]:
    return list(
        ScoreSnapshot.objects.filter(user=user, current=True).values_list("score", flat=True)
    )


def test_only_the_latest_snapshot_of_each_person_stays_current():
    person, other = UserFactory(), UserFactory()
    ScoreSnapshotFactory(user=person, score=600, computed_at=_at(2026, 10))
    ScoreSnapshotFactory(user=person, score=640, computed_at=_at(2026, 12))
    # Written later but computed earlier (a slow recompute): history at once.
    late = ScoreSnapshotFactory(user=person, score=610, computed_at=_at(2026, 11))
    ScoreSnapshotFactory(user=other, score=700, computed_at=_at(2026, 9))

    assert _current(person) == [640]
    assert _current(other) == [700]
    assert late.current is False
    assert score_latest(user=person).score == 640
    # Ties on the moment: the later id wins, as every reader orders.
    tie = ScoreSnapshotFactory(user=person, score=650, computed_at=_at(2026, 12))
    assert _current(person) == [650]
    assert tie.current
    assert snapshots_supersede(user_ids=[person.pk, other.pk]) == 0


@postgresql
def test_history_lives_in_its_month_and_the_current_score_in_its_own_partition():
    person = UserFactory()
    snapshot_months_ensure(today=TODAY)
    old = ScoreSnapshotFactory(user=person, score=600, computed_at=_at(2026, 12, 1))
    new = ScoreSnapshotFactory(user=person, score=640)
    old.refresh_from_db()

    assert _partition_of(new) == "scoring_scoresnapshot_current"
    assert _partition_of(old) == "scoring_scoresnapshot_history_y2026m12"
    # A month without a partition of its own: the history's default.
    older = ScoreSnapshotFactory(user=person, score=590, computed_at=_at(2019, 3))
    assert _partition_of(older) == HISTORY_DEFAULT


@postgresql
def test_reading_a_latest_score_visits_the_current_partition_only():
    person = UserFactory()
    snapshot_months_ensure(today=TODAY)
    for month in (10, 11, 12):
        ScoreSnapshotFactory(user=person, computed_at=_at(2026, month, 2))
    query = snapshots_latest_first(person.pk).values("id")[:1]
    with connection.cursor() as cursor:
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "scoring_scoresnapshot_current" in plan
    assert "history" not in plan


@postgresql
def test_a_month_made_late_takes_its_rows_from_the_default_partition():
    person = UserFactory()
    snapshot_months_ensure(today=TODAY)
    stray = ScoreSnapshotFactory(user=person, score=600, computed_at=_at(2027, 4))
    ScoreSnapshotFactory(user=person, score=620, computed_at=_at(2027, 5))
    stray.refresh_from_db()
    assert _partition_of(stray) == HISTORY_DEFAULT

    made = snapshot_months_ensure(today=datetime.date(2027, 4, 2))

    assert made == [
        "scoring_scoresnapshot_history_y2027m04",
        "scoring_scoresnapshot_history_y2027m05",
        "scoring_scoresnapshot_history_y2027m06",
    ]
    assert _partition_of(stray) == "scoring_scoresnapshot_history_y2027m04"
    assert snapshot_months_ensure(today=datetime.date(2027, 4, 2)) == []


def test_history_past_the_retention_goes_and_current_scores_never_do(settings):
    settings.SCORE_HISTORY_MONTHS = 12
    snapshot_months_ensure(today=datetime.date(2025, 10, 1))
    snapshot_months_ensure(today=TODAY)
    steady, changing = UserFactory(), UserFactory()
    # Unchanged for two years: the one snapshot is the score, kept however old.
    kept_score = ScoreSnapshotFactory(user=steady, score=700, computed_at=_at(2024, 11))
    gone = [
        ScoreSnapshotFactory(user=changing, score=600, computed_at=_at(2025, 10)),
        ScoreSnapshotFactory(user=changing, score=605, computed_at=_at(2025, 11, 30)),
    ]
    kept = [
        ScoreSnapshotFactory(user=changing, score=610, computed_at=_at(2025, 12, 1)),
        ScoreSnapshotFactory(user=changing, score=620, computed_at=_at(2026, 6)),
    ]
    latest = ScoreSnapshotFactory(user=changing, score=630, computed_at=_at(2026, 12, 1))

    assert snapshot_history_prune(today=TODAY) == 2

    remaining = set(ScoreSnapshot.objects.values_list("pk", flat=True))
    assert remaining == {kept_score.pk, latest.pk, *(s.pk for s in kept)}
    assert not remaining & {s.pk for s in gone}
    assert score_latest(user=steady).pk == kept_score.pk
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_class "
                "WHERE relname LIKE 'scoring_scoresnapshot_history_y%%'"
            )
            months = {row[0] for row in cursor.fetchall()}
        assert "scoring_scoresnapshot_history_y2025m11" not in months
        assert "scoring_scoresnapshot_history_y2025m12" in months
    assert snapshot_history_prune(today=TODAY) == 0


def test_no_retention_keeps_everything(settings):
    settings.SCORE_HISTORY_MONTHS = 0
    person = UserFactory()
    ScoreSnapshotFactory(user=person, computed_at=_at(2010, 1))
    ScoreSnapshotFactory(user=person, computed_at=_at(2026, 1))
    assert snapshot_history_prune(today=TODAY) == 0
    assert ScoreSnapshot.objects.filter(user=person).count() == 2


def test_a_latest_score_is_one_query_whatever_the_history():
    person = UserFactory()
    for month in range(1, 13):
        ScoreSnapshotFactory(user=person, score=600 + month, computed_at=_at(2026, month))
    with CaptureQueriesContext(connection) as queries:
        assert score_latest(user=person).score == 612
    assert len(queries) == 1
