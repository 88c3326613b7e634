"""A run of everyone writes a snapshot only where something changed (the score, a
sub-score, the points or the model version); the others are checked and keep their latest
snapshot, which the score home then says was checked. Counts, notifications and history
follow the snapshots written."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Notification
from scoring.explain.breakdown import ARRAY_DTYPE
from scoring.models import RecomputeChunk, RecomputeRun, ScoreSnapshot
from scoring.selectors import score_checked_at
from scoring.services.recompute import recompute_chunk_process
from scoring.services.scores import Scored, _Latest, scores_unchanged
from scoring.tasks import recompute_run_start
from tests.dates import days_ago
from tests.factories import add_repayment, grant, make_user, solid_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(active_model):
    users = []
    for name in ("steady", "slipping", "thin"):
        user = make_user(name)
        grant(user)
        if name != "thin":
            solid_file(user)
        users.append(user)
    return users


def _run() -> RecomputeRun:
    run = recompute_run_start(chunk_size=2)
    for chunk_id in run.chunks.order_by("pk").values_list("pk", flat=True):
        recompute_chunk_process(chunk_id=chunk_id)
    run.refresh_from_db()
    return run


def test_a_second_run_with_nothing_new_writes_nothing_and_counts_everyone_checked(people):
    first = _run()
    second = _run()

    assert (first.users_done, first.users_changed) == (3, 3)
    assert (second.users_done, second.users_changed) == (3, 0)
    assert second.finished_at is not None
    assert ScoreSnapshot.objects.count() == 3
    assert not ScoreSnapshot.objects.filter(run=second).exists()


def test_a_changed_score_gets_a_snapshot_a_notification_and_a_place_in_the_history(people):
    steady, slipping, _thin = people
    _run()
    before = ScoreSnapshot.objects.get(user=slipping)
    loan = slipping.credit_accounts.get(kind="consumer_loan")
    add_repayment(loan, due=days_ago(40), days_overdue=40, paid=False)

    second = _run()

    assert (second.users_done, second.users_changed) == (3, 1)
    after = ScoreSnapshot.objects.get(run=second)
    assert after.user_id == slipping.pk
    assert after.score < before.score
    assert ScoreSnapshot.objects.filter(user=steady).count() == 1
    note = Notification.objects.get(kind=Notification.Kind.SCORE_CHANGED)
    assert note.user_id == slipping.pk
    assert note.params["previous_id"] == before.pk
    assert note.params["snapshot_id"] == after.pk


def test_the_score_home_says_when_an_unchanged_score_was_checked(people):
    steady = people[0]
    _run()
    snapshot = ScoreSnapshot.objects.get(user=steady)
    ScoreSnapshot.objects.filter(pk=snapshot.pk).update(
        computed_at=snapshot.computed_at - datetime.timedelta(days=3)
    )
    snapshot.refresh_from_db()

    second = _run()

    done = RecomputeChunk.objects.filter(run=second, first_user_id__lte=steady.pk).latest("pk")
    assert score_checked_at(user_id=steady.pk, snapshot=snapshot) == done.done_at
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(steady)
    page = client.get("/").content.decode()
    assert "Checked " in page
    assert ": unchanged." in page


def test_checked_means_a_done_chunk_of_one_of_the_two_newest_runs_covering_the_person(people):
    steady = people[0]
    first = _run()
    snapshot = ScoreSnapshot.objects.get(user=steady)
    # Written by the run, it was checked when its chunk was done, a moment later.
    covering = RecomputeChunk.objects.filter(run=first, first_user_id__lte=steady.pk).latest("pk")
    assert score_checked_at(user_id=steady.pk, snapshot=snapshot) == covering.done_at

    second = _run()
    covering = RecomputeChunk.objects.filter(run=second, first_user_id__lte=steady.pk).latest("pk")
    assert score_checked_at(user_id=steady.pk, snapshot=snapshot) == covering.done_at

    # A third run still going: the second one's check stands.
    third = RecomputeRun.objects.create(
        kind=RecomputeRun.Kind.NIGHTLY,
        chunk_size=2,
        model_version_id=first.model_version_id,
        started_at=timezone.now(),
    )
    RecomputeChunk.objects.create(run=third, first_user_id=steady.pk, last_user_id=steady.pk)
    assert score_checked_at(user_id=steady.pk, snapshot=snapshot) == covering.done_at
    # Someone no run covered (a newer account) has only their snapshot's moment.
    assert score_checked_at(user_id=people[-1].pk + 1000, snapshot=snapshot) == (
        snapshot.computed_at
    )


def _scored(points: list[list[float]], scores: list[int]) -> Scored:
    matrix = np.array(points, dtype=ARRAY_DTYPE)
    return Scored(
        user_ids=list(range(1, len(scores) + 1)),
        scores=np.array(scores),
        totals=np.array(scores, dtype=float),
        dimensions={},
        points=matrix,
        values=np.full(matrix.shape, np.nan),
    )


def test_unchanged_means_the_same_model_score_and_points():
    scored = _scored([[1.0, 2.0]] * 5, [600] * 5)
    same = np.array([1.0, 2.0], dtype=ARRAY_DTYPE).tobytes()
    other = np.array([2.0, 1.0], dtype=ARRAY_DTYPE).tobytes()
    latest = {
        1: _Latest(11, 600, 7, same, False),  # the same
        2: _Latest(12, 600, 8, same, False),  # another model version
        3: _Latest(13, 601, 7, same, False),  # another score
        4: _Latest(14, 600, 7, other, False),  # the same total from other points
        # 5: no snapshot yet
    }

    unchanged = scores_unchanged(scored, latest=latest, model_version_id=7)

    assert unchanged.tolist() == [True, False, False, False, False]
