from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError

from scoring.ml.artifacts import ArtifactIntegrityError
from scoring.ml.training import TrainingError, csv_frame, features_from_csv
from scoring.selectors import model_last_activated, model_load


class Command(BaseCommand):
    help = (
        "Score every row of a CSV with the active model; write id,p_default,score. The "
        "columns must be those the model was trained on (its mapping is stored with it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--csv", required=True)
        parser.add_argument("--out", required=True)

    def handle(self, *args, **options):
        source, out = options["csv"], options["out"]
        version = model_last_activated()
        if version is None:
            raise CommandError("No model is active: train one with train_model --activate.")
        try:
            model = model_load(version)
        except ArtifactIntegrityError as error:
            raise CommandError(str(error)) from None
        mapping = model.inputs.get("mapping") or {
            "features": {c: {"kind": "numeric"} for c in model.inputs["columns"]},
            "id": model.inputs.get("id_column"),
        }
        try:
            frame = csv_frame(source, mapping, need_target=False)
        except TrainingError as error:
            raise CommandError(error.message) from None
        features = features_from_csv(frame, mapping)
        card = model.scorecard
        totals = card.total(card.points(features))
        scores = card.scores(totals)
        p_default = card.p_default(totals)
        id_column = mapping.get("id")
        ids = frame[id_column] if id_column and id_column in frame else range(1, len(frame) + 1)
        with open(out, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "p_default", "score"])
            for row_id, p, score in zip(ids, p_default, scores, strict=True):
                writer.writerow([row_id, f"{p:.6f}", int(score)])
        self.stdout.write(f"Scored {len(scores)} rows with {version.version} into {out}.")
