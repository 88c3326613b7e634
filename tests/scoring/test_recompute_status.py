"""The life of a per-user recompute as the score home sees it: queued, running, done or
failed; a change while it runs queues another; a failure stops the page waiting."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from scoring.models import ModelVersion, PendingRecompute, ScoreSnapshot
from scoring.selectors import score_recompute_status
from scoring.services.pending import pending_claim, pending_done, pending_fail
from scoring.tasks import (
    recompute_stale_requeue,
    score_recompute_queue,
    score_recompute_queue_many,
    score_recompute_user,
)
from tests.factories import grant, make_user, solid_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(active_model):
    user = make_user("statused")
    grant(user)
    solid_file(user)
    PendingRecompute.objects.filter(user=user).delete()
    return user


@pytest.fixture
def published(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(
        "scoring.tasks.score_recompute_user.apply_async",
        lambda args=(), **options: calls.append(tuple(args)),
    )
    monkeypatch.setattr(
        "scoring.tasks.score_recompute_user.delay", lambda *args: calls.append(tuple(args))
    )
    return calls


def test_queued_then_done(person, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert score_recompute_queue(user=person, trigger="t")
    assert score_recompute_status(user=person) == "computing"
    assert published == [(person.pk, "t")]

    assert score_recompute_user(person.pk, "t") == "computed"

    assert score_recompute_status(user=person) is None
    assert ScoreSnapshot.objects.filter(user=person).count() == 1


def test_changes_while_queued_ride_on_the_queued_recompute(person, published):
    assert score_recompute_queue(user=person, trigger="a")
    assert not score_recompute_queue(user=person, trigger="b")


def test_a_change_while_running_queues_again_and_survives_the_first_run(
    person, published, monkeypatch, django_capture_on_commit_callbacks
):
    PendingRecompute.objects.create(user=person)
    from scoring.services import scores as services

    real = services.score_recompute

    def change_arrives_mid_run(*, user, trigger):
        with django_capture_on_commit_callbacks(execute=True):
            assert score_recompute_queue(user=user, trigger="mid-run change")
        return real(user=user, trigger=trigger)

    monkeypatch.setattr(services, "score_recompute", change_arrives_mid_run)

    score_recompute_user(person.pk, "first")

    pending = PendingRecompute.objects.get(user=person)
    assert pending.started_at is None
    assert pending.failed_at is None
    assert published == [(person.pk, "mid-run change")]
    assert score_recompute_status(user=person) == "computing"


def test_the_end_of_a_claimed_run_leaves_a_change_queued_meanwhile_alone(
    person, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert score_recompute_queue(user=person, trigger="first")
        claimed_at = pending_claim(user_id=person.pk)
        assert score_recompute_queue(user=person, trigger="meanwhile")  # running: again

        pending_fail(user_id=person.pk, claimed_at=claimed_at)
        assert score_recompute_status(user=person) == "computing"
        pending_done(user_id=person.pk, claimed_at=claimed_at)
        assert score_recompute_status(user=person) == "computing"

        claimed_again = pending_claim(user_id=person.pk)
        pending_fail(user_id=person.pk, claimed_at=claimed_again)
        assert score_recompute_status(user=person) == "failed"
        assert score_recompute_queue(user=person, trigger="after the failure")
        pending_done(user_id=person.pk, claimed_at=pending_claim(user_id=person.pk))
        assert score_recompute_status(user=person) is None

    assert [args[1] for args in published] == ["first", "meanwhile", "after the failure"]


def test_a_failure_after_the_last_retry_marks_the_recompute_failed(person, monkeypatch):
    PendingRecompute.objects.create(user=person)

    def broken(*, user, trigger):
        raise ValueError("a bug")

    monkeypatch.setattr("scoring.services.scores.score_recompute", broken)

    result = score_recompute_user.apply(args=(person.pk, "t"))

    assert result.failed()
    assert score_recompute_status(user=person) == "failed"


def test_no_good_model_is_a_failure_the_user_is_told_about(person):
    ModelVersion.objects.update(is_active=False)
    PendingRecompute.objects.create(user=person)

    assert score_recompute_user(person.pk, "t") == "no_model"

    assert score_recompute_status(user=person) == "failed"


def test_asking_again_after_a_failure_queues_afresh(person, published):
    PendingRecompute.objects.create(
        user=person, started_at=timezone.now(), failed_at=timezone.now()
    )

    assert score_recompute_queue(user=person, trigger="again")

    pending = PendingRecompute.objects.get(user=person)
    assert pending.failed_at is None
    assert pending.started_at is None
    assert score_recompute_status(user=person) == "computing"


def test_an_import_queues_afresh_for_running_and_failed_but_not_for_queued(
    person, published, django_capture_on_commit_callbacks
):
    others = [make_user(f"other{i}") for i in range(3)]
    for user in others:
        grant(user)
    PendingRecompute.objects.all().delete()
    queued, running, failed = others
    PendingRecompute.objects.create(user=queued)
    PendingRecompute.objects.create(user=running, started_at=timezone.now())
    PendingRecompute.objects.create(
        user=failed, started_at=timezone.now(), failed_at=timezone.now()
    )

    with django_capture_on_commit_callbacks(execute=True):
        count = score_recompute_queue_many(
            user_ids={person.pk, queued.pk, running.pk, failed.pk}, trigger="import"
        )

    assert count == 3
    assert {args[0] for args in published} == {person.pk, running.pk, failed.pk}
    assert not PendingRecompute.objects.filter(
        user__in=[running, failed], started_at__isnull=False
    ).exists()


def test_the_sweep_requeues_lost_recomputes_but_not_failed_ones(person, published):
    old = timezone.now() - datetime.timedelta(hours=1)
    lost = make_user("lost")
    PendingRecompute.objects.create(user=lost, queued_at=old)
    PendingRecompute.objects.create(user=person, queued_at=old, started_at=old, failed_at=old)

    recompute_stale_requeue()

    assert [args[0] for args in published] == [lost.pk]
    assert PendingRecompute.objects.get(user=person).failed_at == old
