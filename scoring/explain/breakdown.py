"""What a snapshot's points say, read back: each feature's points and value, and the
reasons (each feature's distance in points from the typical person, largest help first),
derived on read from the snapshot's compact arrays and the model version it names.

A snapshot stores only its score, sub-scores and two arrays of float64, each feature's
points and value (NaN: missing), in the order of the model version's `points_layout`
(its features and their typical points, written when the version is created). Every
reader of a snapshot's points, values or reasons goes through `snapshot_breakdown`: the
score pages and API, the history, notifications, provenance, tips and the export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from django.db.models import Prefetch, prefetch_related_objects

from scoring.models import ModelVersion

if TYPE_CHECKING:
    from scoring.ml.scorecard import Scorecard
    from scoring.models import ScoreSnapshot

ARRAY_DTYPE = np.dtype("<f8")


@dataclass(frozen=True)
class Breakdown:
    points: dict[str, float]  # each feature's points; empty when stored without them
    values: dict[str, float | None]  # each feature's value, None when missing
    reasons: list[dict]  # [{code, feature, impact}], largest help first, largest hurt last


EMPTY = Breakdown(points={}, values={}, reasons=[])


def layout_of(scorecard: Scorecard) -> dict:
    """A model version's points layout: the order of its snapshots' arrays and each
    feature's typical points (what a reason's impact is measured against)."""
    names = scorecard.feature_names
    return {
        "features": names,
        "typical_points": [float(scorecard.typical_points.get(n, 0.0)) for n in names],
    }


def array_encode(row: np.ndarray) -> bytes:
    """One snapshot's points or values as stored (see the module's docstring)."""
    return np.ascontiguousarray(row, dtype=ARRAY_DTYPE).tobytes()


def _decoded(stored: bytes | memoryview | None, size: int) -> np.ndarray | None:
    if stored is None:
        return None
    array = np.frombuffer(bytes(stored), dtype=ARRAY_DTYPE)
    return array if len(array) == size else None


def reasons_of(names: list[str], points: np.ndarray, values: np.ndarray, typical) -> list[dict]:
    """Each feature's impact (its points minus the typical person's, to 0.01 point), with
    a code saying why: `<feature>.up`, `.down`, or `.missing` when it hurt for want of
    information. Largest help first, largest hurt last: together the impacts are the
    distance from the typical person."""
    impacts = np.round(points - np.asarray(typical, dtype=float), 2)
    missing = np.isnan(values)
    order = np.argsort(-impacts, kind="stable")
    reasons = []
    for j in order.tolist():
        impact = float(impacts[j])
        kind = "up" if impact > 0 else ("missing" if missing[j] else "down")
        reasons.append({"code": f"{names[j]}.{kind}", "feature": names[j], "impact": impact})
    return reasons


def breakdown_from(
    *, layout: dict, points: bytes | memoryview | None, values: bytes | memoryview | None
) -> Breakdown:
    names = list(layout.get("features") or [])
    point_array = _decoded(points, len(names))
    if point_array is None:  # stored without its breakdown (imported history)
        return EMPTY
    value_array = _decoded(values, len(names))
    if value_array is None:
        value_array = np.full(len(names), np.nan)
    typical = layout.get("typical_points") or [0.0] * len(names)
    return Breakdown(
        points=dict(zip(names, point_array.tolist(), strict=True)),
        values={
            name: None if np.isnan(value) else value
            for name, value in zip(names, value_array.tolist(), strict=True)
        },
        reasons=reasons_of(names, point_array, value_array, typical),
    )


def model_versions_attach(snapshots: list[ScoreSnapshot]) -> None:
    """Load the model versions of these snapshots that are not loaded yet (without their
    artifact and card): one query for any number, none when all are loaded."""
    light = ModelVersion.objects.defer("artifact", "card")
    prefetch_related_objects(snapshots, Prefetch("model_version", queryset=light))


def snapshot_breakdown(snapshot: ScoreSnapshot) -> Breakdown:
    """The one way to read a snapshot's points, values and reasons. Reads the snapshot's
    model version (load it with the snapshot: select_related("model_version"), deferring
    its artifact and card)."""
    version: ModelVersion = snapshot.model_version
    return breakdown_from(
        layout=version.points_layout or {},
        points=snapshot.feature_points,
        values=snapshot.feature_values,
    )
