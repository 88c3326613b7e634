"""Compact snapshots: a snapshot keeps each feature's points and value as two float64
arrays in the order of its model version's new `points_layout` (features and their
typical points), instead of three JSON documents; reasons are derived when read
(scoring.explain.breakdown). Reversible: the way back rebuilds the three documents.

The conversion is written out here rather than imported, so that it stays what it was
when this migration ran."""

import json

import numpy as np
from django.db import migrations, models

DTYPE = np.dtype("<f8")
BATCH = 2000


def _layout_from_artifact(artifact) -> dict | None:
    try:
        scorecard = json.loads(bytes(artifact).decode("utf-8"))["scorecard"]
        names = [f["name"] for f in scorecard["features"]]
        typical = scorecard.get("typical_points", {})
        return {"features": names, "typical_points": [float(typical.get(n, 0.0)) for n in names]}
    except (ValueError, KeyError, TypeError):
        return None


def _layout_from_snapshot(snapshot) -> dict:
    """For a version whose artifact cannot be read: the order of a snapshot's points, and
    each feature's typical points as its reasons measured them."""
    names = list(snapshot.contributions or {})
    impacts = {r.get("feature"): r.get("impact", 0.0) for r in snapshot.reasons or []}
    return {
        "features": names,
        "typical_points": [
            round(float(snapshot.contributions[n]) - float(impacts.get(n, 0.0)), 2) for n in names
        ],
    }


def _snapshots(apps, version_id):
    snapshot = apps.get_model("scoring", "ScoreSnapshot")
    return snapshot.objects.filter(model_version_id=version_id).order_by("pk")


def _batches(queryset):
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def to_arrays(apps, schema_editor) -> None:
    version_model = apps.get_model("scoring", "ModelVersion")
    snapshot_model = apps.get_model("scoring", "ScoreSnapshot")
    for version in version_model.objects.all():
        layout = _layout_from_artifact(version.artifact)
        if layout is None:
            first = _snapshots(apps, version.pk).exclude(contributions={}).first()
            layout = _layout_from_snapshot(first) if first is not None else {}
        version.points_layout = layout
        version.save(update_fields=["points_layout"])
        names = layout.get("features", [])
        for batch in _batches(_snapshots(apps, version.pk)):
            for snapshot in batch:
                points = snapshot.contributions or {}
                values = snapshot.features or {}
                if not points or not names:
                    snapshot.feature_points = snapshot.feature_values = None
                    continue
                snapshot.feature_points = np.array(
                    [float(points.get(n, 0.0)) for n in names], dtype=DTYPE
                ).tobytes()
                snapshot.feature_values = np.array(
                    [np.nan if values.get(n) is None else float(values[n]) for n in names],
                    dtype=DTYPE,
                ).tobytes()
            snapshot_model.objects.bulk_update(batch, ["feature_points", "feature_values"])


def to_documents(apps, schema_editor) -> None:
    version_model = apps.get_model("scoring", "ModelVersion")
    snapshot_model = apps.get_model("scoring", "ScoreSnapshot")
    for version in version_model.objects.all():
        layout = version.points_layout or {}
        names = layout.get("features", [])
        typical = np.array(layout.get("typical_points") or [0.0] * len(names), dtype=float)
        for batch in _batches(_snapshots(apps, version.pk)):
            for snapshot in batch:
                points = (
                    np.frombuffer(bytes(snapshot.feature_points), dtype=DTYPE)
                    if snapshot.feature_points is not None
                    else np.empty(0)
                )
                if len(points) != len(names) or not names:
                    snapshot.contributions, snapshot.features, snapshot.reasons = {}, {}, []
                    continue
                values = (
                    np.frombuffer(bytes(snapshot.feature_values), dtype=DTYPE)
                    if snapshot.feature_values is not None
                    else np.full(len(names), np.nan)
                )
                impacts = np.round(points - typical, 2)
                snapshot.contributions = dict(zip(names, points.tolist(), strict=True))
                snapshot.features = {
                    n: None if np.isnan(v) else v
                    for n, v in zip(names, values.tolist(), strict=True)
                }
                snapshot.reasons = [
                    {
                        "code": f"{names[j]}."
                        + (
                            "up"
                            if impacts[j] > 0
                            else ("missing" if np.isnan(values[j]) else "down")
                        ),
                        "feature": names[j],
                        "impact": float(impacts[j]),
                    }
                    for j in np.argsort(-impacts, kind="stable").tolist()
                ]
            snapshot_model.objects.bulk_update(batch, ["contributions", "features", "reasons"])


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0010_court_list_from_benefits"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="points_layout",
            field=models.JSONField(blank=True, default=dict, verbose_name="points layout"),
        ),
        migrations.AddField(
            model_name="scoresnapshot",
            name="feature_points",
            field=models.BinaryField(blank=True, null=True, verbose_name="points by feature"),
        ),
        migrations.AddField(
            model_name="scoresnapshot",
            name="feature_values",
            field=models.BinaryField(blank=True, null=True, verbose_name="feature values"),
        ),
        # Nullable on the way out, so that the way back can add them again before it
        # fills them.
        migrations.AlterField(
            model_name="scoresnapshot",
            name="contributions",
            field=models.JSONField(null=True, verbose_name="points by feature"),
        ),
        migrations.AlterField(
            model_name="scoresnapshot",
            name="reasons",
            field=models.JSONField(null=True, verbose_name="reasons"),
        ),
        migrations.AlterField(
            model_name="scoresnapshot",
            name="features",
            field=models.JSONField(null=True, verbose_name="feature values"),
        ),
        migrations.RunPython(to_arrays, to_documents),
        migrations.RemoveField(model_name="scoresnapshot", name="contributions"),
        migrations.RemoveField(model_name="scoresnapshot", name="reasons"),
        migrations.RemoveField(model_name="scoresnapshot", name="features"),
    ]
