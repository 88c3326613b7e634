"""A model artifact that is missing or tampered with: nobody is scored with it, everyone
keeps their last good score on their pages, and the admins are alerted once (error log,
email to ADMINS, a banner on every admin page) until it verifies again."""

from __future__ import annotations

import logging

import pytest
from django.core import mail

from scoring import selectors
from scoring.ml.artifacts import ArtifactIntegrityError
from scoring.models import ModelVersion, RecomputeRun, ScoreSnapshot
from scoring.population.generate import population_draw
from scoring.population.store import population_save
from scoring.services.recompute import recompute_chunk_process
from scoring.services.scores import score_recompute
from scoring.tasks import recompute_run_start
from tests.factories import grant, solid_file, store_model

ALERT = "failed its integrity check"  # the log line
BANNER = "model-integrity-alert"  # the admin banner, in whichever language


def _break(version: ModelVersion, how: str) -> None:
    """Damage the stored artifact as an attacker or a bad restore would; the worker
    processes that load it next start with nothing cached."""
    artifact = bytes(version.artifact)
    damaged = {
        "tampered": artifact.replace(b'"base_points": ', b'"base_points": 9', 1),
        "missing": b"",
    }[how]
    assert damaged != artifact
    ModelVersion.objects.filter(pk=version.pk).update(artifact=damaged)
    selectors._cache.clear()


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("Ops", "ops@example.com")]


@pytest.fixture
def scored(owner, trained):
    version = store_model(trained)
    grant(owner)
    solid_file(owner)
    good = score_recompute(user=owner, trigger="before")
    assert good is not None
    return version, good


@pytest.mark.parametrize("how", ["tampered", "missing"])
def test_a_broken_model_keeps_the_last_good_score_and_alerts_the_admins_once(
    how, scored, owner_client, admin_client, admins, caplog
):
    version, good = scored
    _break(version, how)

    with caplog.at_level(logging.ERROR, logger="scoring.ml.health"):
        assert score_recompute(user=good.user, trigger="after") is None
        assert score_recompute(user=good.user, trigger="again") is None

    assert list(ScoreSnapshot.objects.filter(user=good.user)) == [good]
    home = owner_client.get("/")
    assert home.status_code == 200
    assert f">{good.score}<" in home.content.decode()
    version.refresh_from_db()
    assert version.integrity_failed_at is not None
    assert version.integrity_error
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]  # once, not per recompute
    assert version.version in mail.outbox[0].subject
    assert any(ALERT in r.getMessage() for r in caplog.records)
    page = admin_client.get("/admin/").content.decode()
    assert BANNER in page
    assert version.version in page


def test_the_nightly_run_scores_nobody_with_a_broken_model(scored, admins):
    version, good = scored
    population_save(population_draw(users=30, seed=7), prefix="integrity")
    _break(version, "tampered")

    run = recompute_run_start(chunk_size=10)

    assert (run.chunks_total, run.model_version) == (0, None)
    assert run.finished_at is not None
    assert not ScoreSnapshot.objects.filter(run__isnull=False).exists()
    assert list(ScoreSnapshot.objects.filter(user=good.user)) == [good]
    assert len(mail.outbox) == 1


def test_a_model_broken_during_a_run_fails_its_chunks_and_writes_nothing(scored, admins):
    version, _good = scored
    population_save(population_draw(users=30, seed=8), prefix="midrun")
    run = recompute_run_start(chunk_size=10)
    chunk_ids = list(run.chunks.values_list("pk", flat=True))
    assert len(chunk_ids) >= 2
    _break(version, "tampered")

    for chunk_id in chunk_ids:
        with pytest.raises(ArtifactIntegrityError):
            recompute_chunk_process(chunk_id=chunk_id)

    assert not ScoreSnapshot.objects.filter(run=run).exists()
    assert RecomputeRun.objects.get(pk=run.pk).finished_at is None  # the sweep retries it
    assert len(mail.outbox) == 1


def test_restoring_the_artifact_clears_the_alert_and_scoring_resumes(scored, admin_client, admins):
    version, good = scored
    original = bytes(version.artifact)
    _break(version, "tampered")
    assert score_recompute(user=good.user, trigger="broken") is None
    assert BANNER in admin_client.get("/admin/").content.decode()

    ModelVersion.objects.filter(pk=version.pk).update(artifact=original)
    selectors._cache.clear()

    assert score_recompute(user=good.user, trigger="restored") is not None
    version.refresh_from_db()
    assert (version.integrity_failed_at, version.integrity_error) == (None, "")
    assert BANNER not in admin_client.get("/admin/").content.decode()


def test_the_banner_is_for_staff_only(scored, client):
    version, good = scored
    _break(version, "missing")
    score_recompute(user=good.user, trigger="broken")

    assert BANNER not in client.get("/admin/login/").content.decode()
