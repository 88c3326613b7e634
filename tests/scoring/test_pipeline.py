"""The recompute pipeline with the real thing: chunks scored exactly once per run, a real
Celery worker process on the configured broker, and a worker killed with SIGKILL in the
middle of a run that loses nobody."""

from __future__ import annotations

import datetime
import signal
import threading

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose, User
from scoring.explain.breakdown import snapshot_breakdown
from scoring.models import RecomputeRun, ScoreSnapshot
from scoring.population.generate import population_draw
from scoring.population.store import population_save
from scoring.services.recompute import recompute_chunk_process
from scoring.services.scores import score_recompute
from scoring.tasks import recompute_run_start, recompute_stale_requeue
from tests.factories import store_model
from tests.worker import wait_for, worker_kill, worker_start


def _consenting_ids() -> set[int]:
    return set(
        ConsentGrant.objects.current()
        .filter(purpose=ConsentPurpose.SCORING)
        .values_list("user_id", flat=True)
    )


def _people(count: int, seed: int) -> None:
    population_save(population_draw(users=count, seed=seed), prefix=f"pipe{seed}")


@pytest.mark.django_db
def test_a_run_scores_every_consenting_user_exactly_once_even_when_chunks_repeat(trained):
    store_model(trained)
    _people(240, seed=41)

    run = recompute_run_start(chunk_size=50)
    chunk_ids = list(run.chunks.values_list("pk", flat=True))
    for chunk_id in chunk_ids + chunk_ids[:2]:  # two chunks delivered twice
        recompute_chunk_process(chunk_id=chunk_id)

    run.refresh_from_db()
    per_user = dict(
        ScoreSnapshot.objects.filter(run=run)
        .values_list("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    assert set(per_user) == _consenting_ids()
    assert set(per_user.values()) == {1}
    assert run.finished_at is not None
    assert run.chunks_done == run.chunks_total == len(chunk_ids)
    assert run.users_done == len(per_user)


@pytest.mark.django_db
def test_a_chunk_is_read_with_a_fixed_number_of_queries(trained, django_assert_max_num_queries):
    store_model(trained)
    _people(300, seed=42)
    small = recompute_run_start(chunk_size=20)
    big = recompute_run_start(chunk_size=300)

    with django_assert_max_num_queries(30) as small_queries:
        recompute_chunk_process(chunk_id=small.chunks.order_by("pk").first().pk)
    with django_assert_max_num_queries(30) as big_queries:
        recompute_chunk_process(chunk_id=big.chunks.order_by("pk").first().pk)

    def reads(context) -> list[str]:
        # The bulk insert is one statement on PostgreSQL; SQLite splits it by its
        # parameter limit, so only reads and updates are compared.
        return [
            q["sql"].split()[0]
            for q in context.captured_queries
            if not q["sql"].startswith("INSERT")
        ]

    assert len(reads(big_queries)) == len(reads(small_queries))


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_recomputes_of_one_user_leave_one_consistent_history(
    trained, consent_texts
):
    store_model(trained)
    _people(5, seed=43)
    user = User.objects.filter(pk__in=_consenting_ids()).first()
    errors: list[BaseException] = []

    def recompute() -> None:
        try:
            score_recompute(user=user, trigger="overlap")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=recompute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    history = list(ScoreSnapshot.objects.filter(user=user).order_by("computed_at"))
    assert len(history) == 2
    assert history[0].computed_at < history[1].computed_at
    assert history[0].score == history[1].score
    assert snapshot_breakdown(history[0]).points == snapshot_breakdown(history[1]).points


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_recomputes_a_user_after_a_profile_change(trained, tmp_path, consent_texts):
    from accounts.services import profile_update

    store_model(trained)
    _people(3, seed=44)
    user = User.objects.filter(pk__in=_consenting_ids()).order_by("pk").first()
    worker = worker_start(tmp_path / "worker.log")
    try:
        profile_update(user=user, sections={"provident_fund": {"provident_fund_months": 48}})
        computed = wait_for(
            lambda: ScoreSnapshot.objects.filter(
                user=user, trigger="profile:provident_fund"
            ).exists(),
            timeout=60,
        )
    finally:
        worker_kill(worker, signal.SIGTERM)
    assert computed, (tmp_path / "worker.log").read_text()[-3000:]
    snapshot = ScoreSnapshot.objects.get(user=user, trigger="profile:provident_fund")
    assert snapshot_breakdown(snapshot).values["cp_provident_fund_months"] == 48


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_loses_nobody_and_scores_nobody_twice(
    trained, tmp_path, consent_texts
):
    store_model(trained)
    _people(1500, seed=45)
    log = tmp_path / "worker.log"
    worker = worker_start(log)
    try:
        run = recompute_run_start(chunk_size=100)
        started = wait_for(lambda: RecomputeRun.objects.get(pk=run.pk).chunks_done >= 2, timeout=90)
        assert started, log.read_text()[-3000:]
        worker_kill(worker)  # SIGKILL: no warm shutdown, the chunk in hand is not acknowledged
        killed_at = RecomputeRun.objects.get(pk=run.pk).chunks_done
        worker = worker_start(log)
        finished = wait_for(
            lambda: RecomputeRun.objects.get(pk=run.pk).finished_at is not None,
            timeout=180,
            step=0.5,
            between=lambda: recompute_stale_requeue(stale_after=datetime.timedelta(seconds=5)),
        )
    finally:
        worker_kill(worker, signal.SIGTERM)
    run.refresh_from_db()
    assert finished, log.read_text()[-3000:]
    assert killed_at < run.chunks_total, "the kill came after the run had finished"
    per_user = dict(
        ScoreSnapshot.objects.filter(run=run)
        .values_list("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    assert set(per_user) == _consenting_ids()
    assert set(per_user.values()) == {1}
    assert run.users_done == len(per_user)


@pytest.mark.django_db
def test_the_sweep_republishes_a_per_user_recompute_whose_message_was_lost(monkeypatch):
    from scoring.models import PendingRecompute

    user = User.objects.create_user("lost", password="x-long-password-1")
    PendingRecompute.objects.create(
        user=user, queued_at=timezone.now() - datetime.timedelta(minutes=30)
    )
    published = []
    monkeypatch.setattr(
        "scoring.tasks.score_recompute_user.delay",
        lambda user_id, trigger: published.append(user_id),
    )

    assert recompute_stale_requeue() == 1
    assert published == [user.pk]
    assert PendingRecompute.objects.get(user=user).queued_at > timezone.now() - datetime.timedelta(
        minutes=1
    )


@pytest.mark.django_db
def test_a_runs_snapshots_stay_small_enough_not_to_be_toasted(trained):
    """A snapshot keeps its points and values as two float64 arrays (no reasons, no JSON
    documents): far below PostgreSQL's 2 KB TOAST threshold, so the COPY neither
    compresses nor writes a TOAST table (benchmarks/RESULTS.md)."""
    if connection.vendor != "postgresql":
        pytest.skip("TOAST is PostgreSQL's")
    store_model(trained)
    _people(20, seed=45)
    run = recompute_run_start(chunk_size=50)
    for chunk_id in run.chunks.values_list("pk", flat=True):
        recompute_chunk_process(chunk_id=chunk_id)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), max(pg_column_size(s.*)), "
            "count(pg_column_compression(feature_points)) "
            "FROM scoring_scoresnapshot s WHERE run_id = %s",
            [run.pk],
        )
        count, largest, compressed = cursor.fetchone()
    assert count > 0
    assert largest < 1000
    assert compressed == 0
