"""Benchmark of the scoring model on the synthetic population (issue 4, "Measured").

Draws the documented latent-risk population (scoring.population.generate) with a fixed seed,
trains through scoring.ml.training.model_train (champion monotone WOE scorecard, the
gradient-boosting challenger and the plain WOE-binned logistic baseline, on a 70/30
stratified split), and reports:

- discrimination on the held-out 30 %: AUC, the AUC of the generator's true default
  probabilities (the ceiling), their ratio (bar: at least 0.98), KS and Gini, for the
  champion, the plain WOE-logistic baseline and the challenger;
- calibration by band (count, observed and predicted default rate) and PSI test vs train;
- fit time: median of --repeat calls of scorecard_fit on the training part;
- scoring speed: scores_compute for one user (1-row frame, median of 1,000 calls) and
  for a chunk of 10,000 (median of --repeat calls), and the raw points-only path.

Nothing is written to the database. Run from the project root:

    .venv/bin/python benchmarks/scoring_model.py [--users 200000] [--seed 2026] [--repeat 3]
        [--write]

With --write the Markdown section replaces (or is appended as) the section
"## Scoring model (benchmarks/scoring_model.py)" of benchmarks/RESULTS.md.
Exits 1 when the champion's AUC ratio to the true-probability AUC is below 0.98.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import itertools
import os
import platform
import resource
import statistics
import sys
import time
from importlib import metadata

from _environment import RESULTS, ROOT, command, commit, machine, results_write

SECTION = "## Scoring model (benchmarks/scoring_model.py)"
AUC_RATIO_BAR = 0.98
CALIBRATION_MIN_COUNT = 100  # "a band with enough people" for the calibration check


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026, help="population seed")
    parser.add_argument("--repeat", type=int, default=3, help="fits and chunk calls timed")
    parser.add_argument(
        "--as-of",
        type=datetime.date.fromisoformat,
        default=datetime.date(2026, 1, 1),
        help="the population's reference date (fixed so that a seed gives the same data)",
    )
    parser.add_argument(
        "--split-seed", type=int, default=0, help="model_train's split seed (train_model uses 0)"
    )
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--single-calls", type=int, default=1_000)
    parser.add_argument("--no-challenger", action="store_true")
    parser.add_argument("--write", action="store_true", help=f"write the section to {RESULTS}")
    args = parser.parse_args(argv)
    if args.users < 1_000 or args.repeat < 1 or args.chunk < 1 or args.single_calls < 1:
        parser.error("--users must be at least 1,000; --repeat, --chunk, --single-calls >= 1")
    return args


def _django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesame_portal.settings")
    import django

    django.setup()


def _timed(function, repeat: int) -> tuple[list[float], object]:
    seconds, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def _versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for name in ("Django", "numpy", "pandas", "scikit-learn", "scipy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            parts.append(f"{name} {metadata.version(name)}")
    return ", ".join(parts)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


def _calibrated(bands: list[dict]) -> bool:
    """Observed default rate falls as the band rises, over bands with enough people."""
    rates = [
        b["observed_default_rate"]
        for b in bands
        if b["count"] >= CALIBRATION_MIN_COUNT and b["observed_default_rate"] is not None
    ]
    return all(later < earlier for earlier, later in itertools.pairwise(rates))


def _median_runs(seconds: list[float]) -> str:
    runs = ", ".join(f"{s:.2f}" for s in seconds)
    return f"{statistics.median(seconds):.2f} s | {runs}"


def run(args: argparse.Namespace) -> tuple[str, dict]:
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from scoring.ml.artifacts import artifact_dump, artifact_load, artifact_sha256
    from scoring.ml.scorecard import scorecard_fit
    from scoring.ml.training import dataset_synthetic, ks_statistic, model_train, scorecard_evaluate
    from scoring.services.scores import scores_compute

    started_at = datetime.datetime.now(datetime.UTC)
    load_start = os.getloadavg()[0]
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731

    log(f"drawing {args.users:,} users (seed {args.seed}, as of {args.as_of})…")
    t0 = time.perf_counter()
    dataset = dataset_synthetic(users=args.users, seed=args.seed, as_of=args.as_of)
    draw_seconds = time.perf_counter() - t0

    log("model_train (champion, baseline, challenger)…")
    t0 = time.perf_counter()
    result = model_train(dataset, seed=args.split_seed, challenger=not args.no_challenger)
    train_seconds = time.perf_counter() - t0
    card, metrics = result.card, result.card["metrics"]
    champion_monotone = metrics["binning"] == "monotone"

    # The same 70/30 stratified split as model_train, and its selection split inside it.
    frame, y = dataset.frame, dataset.y
    train_idx, test_idx = train_test_split(
        np.arange(len(y)), test_size=0.3, random_state=args.split_seed, stratify=y
    )
    assert len(test_idx) == metrics["test_rows"]
    assert len(train_idx) == metrics["train_rows"]
    train, y_train = frame.iloc[train_idx], y[train_idx]
    test, y_test = frame.iloc[test_idx], y[test_idx]
    true_auc = roc_auc_score(y_test, dataset.p_true[test_idx])
    assert abs(true_auc - metrics["true_probability_auc"]) < 1e-12
    fit_idx, val_idx = train_test_split(
        train_idx, test_size=0.2, random_state=args.split_seed, stratify=y[train_idx]
    )
    selection = {}
    for monotone in (True, False):
        candidate = scorecard_fit(frame.iloc[fit_idx], y[fit_idx], dataset.specs, monotone=monotone)
        selection[monotone] = roc_auc_score(
            y[val_idx], -candidate.total(candidate.points(frame.iloc[val_idx]))
        )

    log(f"timing scorecard_fit x{args.repeat} (monotone=True, monotone=False)…")
    fits, cards = {}, {}
    for monotone in (True, False):
        fits[monotone], cards[monotone] = _timed(
            lambda m=monotone: scorecard_fit(train, y_train, dataset.specs, monotone=m),
            args.repeat,
        )
    refit_identical = cards[champion_monotone].to_dict() == result.scorecard.to_dict()
    figures_of = {
        m: scorecard_evaluate(cards[m], train=train, test=test, y_test=y_test)
        for m in (True, False)
    }
    baseline = figures_of[False]  # the plain WOE-binned logistic scorecard
    card_baseline = card["comparisons"]["baseline_woe_logistic"]
    assert abs(card_baseline["auc"] - baseline.auc) < 1e-12, "baseline differs from the card"
    assert abs(figures_of[champion_monotone].auc - metrics["auc"]) < 1e-12

    log("timing scoring…")
    artifact = artifact_dump(
        scorecard=result.scorecard,
        kind="portal",
        inputs={"columns": dataset.columns, "id_column": "id"},
    )
    model = artifact_load(
        artifact=artifact,
        sha256=artifact_sha256(artifact),
        version="benchmark",
        model_version_id=0,
    )
    scorecard = model.scorecard
    chunk = test.iloc[: args.chunk]
    singles = [test.iloc[[i % len(test)]] for i in range(args.single_calls)]

    scores_compute(model=model, features=singles[0])  # warm up (imports, caches)
    single_seconds = []
    for one in singles:
        t0 = time.perf_counter()
        scores_compute(model=model, features=one)
        single_seconds.append(time.perf_counter() - t0)
    points_single_seconds = []
    for one in singles:
        t0 = time.perf_counter()
        scorecard.total(scorecard.points(one))
        points_single_seconds.append(time.perf_counter() - t0)
    chunk_seconds, chunk_results = _timed(
        lambda: scores_compute(model=model, features=chunk), args.repeat
    )
    points_chunk_seconds, chunk_totals = _timed(
        lambda: scorecard.total(scorecard.points(chunk)), args.repeat
    )
    expected = scorecard.scores(chunk_totals)
    scores_agree = [r["score"] for r in chunk_results] == expected.tolist()

    single_us = statistics.median(single_seconds) * 1e6
    points_single_us = statistics.median(points_single_seconds) * 1e6
    chunk_s = statistics.median(chunk_seconds)
    points_chunk_s = statistics.median(points_chunk_seconds)
    ratio = metrics["auc_ratio_to_true"]
    figures = {
        "auc": metrics["auc"],
        "true_auc": metrics["true_probability_auc"],
        "ratio": ratio,
        "baseline_auc": baseline.auc,
        "single_us": single_us,
        "chunk_rows_per_s": len(chunk) / chunk_s,
        "points_chunk_rows_per_s": len(chunk) / points_chunk_s,
    }

    def name_of(monotone: bool) -> str:
        label = (
            "monotone WOE scorecard (`monotone=True`)"
            if monotone
            else "plain WOE-binned logistic scorecard (`monotone=False`)"
        )
        roles = (["**champion**"] if monotone == champion_monotone else []) + (
            [] if monotone else ["baseline"]
        )
        return f"{label}: {', '.join(roles) or 'not chosen'}"

    def row(name: str, auc: float, ks: float) -> str:
        return f"| {name} | {auc:.4f} | {auc / true_auc:.4f} | {ks:.4f} | {2 * auc - 1:.4f} |"

    n_train, n_test = len(train_idx), len(test_idx)
    verdict = "PASS" if ratio >= AUC_RATIO_BAR else "FAIL"
    lines = [
        SECTION,
        "",
        f"Command: `{command('scoring_model.py', sys.argv[1:])}`  ",
        f"Date: {started_at:%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {machine()}; load average (1 min) {load_start:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end (other work on the machine slows timings)  ",
        f"Code: {commit()}  ",
        f"Versions: {_versions()}",
        "",
        f"Population: `population_draw(users={args.users}, seed={args.seed}, "
        f"as_of={args.as_of})`, drawn in {draw_seconds:.1f} s; default rate "
        f"{100 * metrics['default_rate']:.2f} %. Split 70/30 stratified "
        f"(`model_train(seed={args.split_seed})`): {n_train:,} train / {n_test:,} test. "
        f"`model_train` took {train_seconds:.1f} s in all"
        f"{'' if args.no_challenger else ', challenger included'} (its card's "
        f"`fit_seconds`: {metrics['fit_seconds']:.1f} s).",
        "",
        f"Champion binning (the model card's `binning`): `{metrics['binning']}`. Validation "
        f"AUC on the 80/20 split of the training part that `model_train` uses to choose "
        f"between the two on CSV data: monotone {selection[True]:.6f}, plain "
        f"{selection[False]:.6f}.",
        "",
        "### Discrimination on the held-out 30 %",
        "",
        "| Model | AUC | Ratio to true-p AUC | KS | Gini |",
        "|---|---:|---:|---:|---:|",
        row("True default probability (the ceiling)", true_auc, 0.0).replace(
            "| 0.0000 |",
            f"| {ks_statistic(y_test, dataset.p_true[test_idx]):.4f} |",
            1,
        ),
        row(name_of(True), figures_of[True].auc, figures_of[True].ks),
        row(name_of(False), baseline.auc, baseline.ks),
    ]
    challenger = card["comparisons"].get("challenger_gradient_boosting_monotone")
    if challenger:
        lines.append(
            row(
                "HistGradientBoosting, monotone constraints: challenger",
                challenger["auc"],
                challenger["ks"],
            )
        )
    lines += [
        "",
        f"Bar (QUALITY.md, Model): champion AUC ≥ {AUC_RATIO_BAR:.2f} x true-probability AUC: "
        f"**{ratio:.4f} - {verdict}**. Champion minus baseline AUC: "
        f"{metrics['auc'] - baseline.auc:+.5f}; monotone minus plain: "
        f"{figures_of[True].auc - baseline.auc:+.5f}.",
        "",
        "### Calibration by band (test rows)",
        "",
        "| Band | Scores | Monotone: count | Observed | Predicted "
        "| Plain (baseline): count | Observed | Predicted |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mono, base in zip(figures_of[True].bands, baseline.bands, strict=True):
        lines.append(
            f"| {mono['band']} | {mono['low']}-{mono['high']} | {mono['count']:,} "
            f"| {_rate(mono['observed_default_rate'])} | {_rate(mono['predicted_default_rate'])} "
            f"| {base['count']:,} | {_rate(base['observed_default_rate'])} "
            f"| {_rate(base['predicted_default_rate'])} |"
        )
    assert card["bands"] == _plain_bands(figures_of[champion_monotone].bands)
    yes = lambda ok: "yes" if ok else "NO"  # noqa: E731
    lines += [
        "",
        f"The champion's rows are the `{metrics['binning']}` columns (the model card's "
        f"`bands`). Observed default rate falls as the band rises (bands with ≥ "
        f"{CALIBRATION_MIN_COUNT} people): monotone {yes(_calibrated(figures_of[True].bands))}"
        f", plain {yes(_calibrated(baseline.bands))}. PSI of test vs train scores: "
        f"monotone {figures_of[True].psi:.5f}, plain {baseline.psi:.5f} (card: "
        f"{metrics['psi_test_vs_train']:.5f}).",
        "",
        f"### Fit time: `scorecard_fit` on the {n_train:,} training rows",
        "",
        "| Model | Median | Runs |",
        "|---|---:|---|",
        f"| {name_of(True)} | {_median_runs(fits[True])} |",
        f"| {name_of(False)} | {_median_runs(fits[False])} |",
        "",
        f"The refit champion is identical to the one `model_train` returned: "
        f"{yes(refit_identical)}.",
        "",
        "### Scoring speed (champion from `artifact_dump` → `artifact_load`)",
        "",
        "| Path | Rows per call | Calls | Median per call | Rows/s |",
        "|---|---:|---:|---:|---:|",
        f"| `scores_compute`, one user (1-row frame) | 1 | {len(singles):,} "
        f"| {single_us:,.0f} µs | {1e6 / single_us:,.0f} |",
        f"| `scores_compute`, chunk | {len(chunk):,} | {args.repeat} | {chunk_s * 1000:,.0f} ms "
        f"| {len(chunk) / chunk_s:,.0f} |",
        f"| Points only, `scorecard.total(scorecard.points(frame))`, one user | 1 "
        f"| {len(singles):,} | {points_single_us:,.0f} µs | {1e6 / points_single_us:,.0f} |",
        f"| Points only, chunk | {len(chunk):,} | {args.repeat} | {points_chunk_s * 1000:,.1f} ms "
        f"| {len(chunk) / points_chunk_s:,.0f} |",
        "",
        f"Within this run: a chunk through `scores_compute` is "
        f"{(len(chunk) / chunk_s) / (1e6 / single_us):.1f}x the rows/s of one-user calls, and "
        f"{chunk_s / points_chunk_s:.0f}x slower than the points-only path (the rest is the "
        f"per-row dictionaries and reasons: {(chunk_s - points_chunk_s) / len(chunk) * 1e6:.0f} "
        f"µs a row). Chunk scores equal the points-only scores: {yes(scores_agree)}. "
        f"Peak RSS of the run: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB.",
        "",
    ]
    return "\n".join(lines), figures


def _plain_bands(bands: list[dict]) -> list[dict]:
    """Bands as the model card stores them (numpy numbers made plain)."""
    from scoring.ml.training import _plain

    return _plain(bands)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    _django_setup()
    section, figures = run(args)
    print(section)
    if args.write:
        results_write(section, SECTION)
        print(f"Written to {RESULTS}.", file=sys.stderr)
    if figures["ratio"] < AUC_RATIO_BAR:
        print(
            f"FAIL: AUC ratio {figures['ratio']:.4f} is below the bar {AUC_RATIO_BAR}.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
