"""Compact snapshots (scoring 0011): the three JSON documents of every snapshot become two
float64 arrays in the order of the model version's new points layout, and the way back
rebuilds the same documents, reasons included."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from scoring.explain.breakdown import snapshot_breakdown
from scoring.models import ScoreSnapshot

BEFORE = [("scoring", "0010_court_list_from_benefits")]
AFTER = [("scoring", "0011_compact_snapshots")]

NAMES = ["ch_on_time_rate", "cp_income_rank", "id_verified"]
TYPICAL = {"ch_on_time_rate": 10.0, "cp_income_rank": 5.0, "id_verified": 20.0}
POINTS = {"ch_on_time_rate": 22.5, "cp_income_rank": 1.0, "id_verified": 20.0}
VALUES = {"ch_on_time_rate": 0.97, "cp_income_rank": None, "id_verified": 1.0}
# As scores_compute wrote them: each impact against the typical points, largest first.
REASONS = [
    {"code": "ch_on_time_rate.up", "feature": "ch_on_time_rate", "impact": 12.5},
    {"code": "id_verified.down", "feature": "id_verified", "impact": 0.0},
    {"code": "cp_income_rank.missing", "feature": "cp_income_rank", "impact": -4.0},
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _artifact() -> bytes:
    scorecard = {
        "features": [{"name": name} for name in NAMES],
        "typical_points": TYPICAL,
        "base_points": 600,
    }
    return json.dumps({"format": "sesame-scorecard/1", "scorecard": scorecard}).encode()


@pytest.mark.django_db(transaction=True)
def test_snapshots_become_arrays_and_come_back_as_the_same_documents():
    old = _migrate(BEFORE)
    try:
        user = old.get_model("accounts", "User").objects.create(username="scored")
        versions = old.get_model("scoring", "ModelVersion").objects
        version = versions.create(version="v1", kind="portal", artifact=_artifact(), sha256="0")
        # A version whose artifact cannot be read: its layout comes from its snapshots.
        broken = versions.create(version="v2", kind="portal", artifact=b"{}", sha256="0")
        snapshots = old.get_model("scoring", "ScoreSnapshot").objects
        common = {"user": user, "band": "good", "dimensions": {"capacity": 40}, "trigger": "t"}
        scored = snapshots.create(
            score=653,
            model_version=version,
            contributions=POINTS,
            reasons=REASONS,
            features=VALUES,
            **common,
        )
        bare = snapshots.create(
            score=640, model_version=version, contributions={}, reasons=[], features={}, **common
        )
        other = snapshots.create(
            score=653,
            model_version=broken,
            contributions=POINTS,
            reasons=REASONS,
            features=VALUES,
            **common,
        )

        _migrate(AFTER)
        # The table as 0011 left it: without the columns of later migrations.
        at_0011 = ScoreSnapshot.objects.defer("current")

        for pk in (scored.pk, other.pk):
            snapshot = at_0011.select_related("model_version").get(pk=pk)
            breakdown = snapshot_breakdown(snapshot)
            assert breakdown.points == POINTS
            assert breakdown.values == VALUES
            assert breakdown.reasons == REASONS
        assert at_0011.get(pk=scored.pk).model_version.points_layout == {
            "features": NAMES,
            "typical_points": [TYPICAL[name] for name in NAMES],
        }
        empty = snapshot_breakdown(at_0011.get(pk=bare.pk))
        assert (empty.points, empty.values, empty.reasons) == ({}, {}, [])

        back = _migrate(BEFORE)
        rows = back.get_model("scoring", "ScoreSnapshot").objects
        for pk in (scored.pk, other.pk):
            snapshot = rows.get(pk=pk)
            assert snapshot.contributions == POINTS
            assert snapshot.features == VALUES
            assert snapshot.reasons == REASONS
        snapshot = rows.get(pk=bare.pk)
        assert (snapshot.contributions, snapshot.features, snapshot.reasons) == ({}, {}, [])
    finally:
        _migrate(_latest())
