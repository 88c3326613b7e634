from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from scoring.ml.training import TrainingError, dataset_from_csv, dataset_synthetic, model_train
from scoring.models import ModelVersion
from scoring.services.scores import model_version_create


class Command(BaseCommand):
    help = (
        "Train a scorecard on the synthetic population, or on a labelled CSV with a "
        "mapping file; store it as a new model version with its model card."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from-csv", dest="csv", help="Labelled CSV to train on.")
        parser.add_argument("--mapping", help="JSON mapping of the CSV's columns.")
        parser.add_argument(
            "--users",
            type=int,
            default=50_000,
            help="Synthetic people to train on (default 50,000).",
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--activate", action="store_true", help="Make the new version active at once."
        )
        parser.add_argument(
            "--no-challenger",
            action="store_true",
            help="Skip the gradient-boosting comparison (faster).",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            if options["csv"]:
                if not options["mapping"]:
                    raise CommandError("--from-csv needs --mapping.")
                dataset = dataset_from_csv(csv_path=options["csv"], mapping_path=options["mapping"])
                kind = ModelVersion.Kind.EXTERNAL
                inputs = {
                    "columns": dataset.columns,
                    "id_column": dataset.id_column,
                    "mapping": dataset.source["mapping"],
                }
            else:
                if options["users"] < 1000:
                    raise CommandError("--users must be at least 1,000.")
                dataset = dataset_synthetic(users=options["users"], seed=options["seed"])
                kind = ModelVersion.Kind.PORTAL
                inputs = {"columns": dataset.columns, "id_column": "id"}
            result = model_train(dataset, challenger=not options["no_challenger"])
        except TrainingError as error:
            raise CommandError(error.message) from None
        version = model_version_create(
            result=result, kind=kind, inputs=inputs, activate=options["activate"]
        )
        metrics = result.card["metrics"]
        line = (
            f"Model {version.version}: AUC {metrics['auc']:.4f}, KS {metrics['ks']:.4f}, "
            f"Gini {metrics['gini']:.4f}"
        )
        if "auc_ratio_to_true" in metrics:
            line += (
                f", true-probability AUC {metrics['true_probability_auc']:.4f} "
                f"(ratio {metrics['auc_ratio_to_true']:.3f})"
            )
        self.stdout.write(line)
        self.stdout.write(
            f"{'Active' if options['activate'] else 'Not active (activate it in the admin)'}; "
            f"sha256 {version.sha256}; {time.perf_counter() - started:.1f} s."
        )
