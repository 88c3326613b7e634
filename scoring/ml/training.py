"""Training: datasets (the synthetic population, or any labelled CSV with a mapping),
the champion scorecard, a challenger and a baseline, and the model card's figures."""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from scoring.ml.bands import BANDS
from scoring.ml.features import (
    DIMENSIONS,
    FEATURES,
    HIGHER_IS_BETTER,
    HIGHER_IS_WORSE,
    UNKNOWN_DIRECTION,
)
from scoring.ml.scorecard import FeatureSpec, Scorecard, scorecard_fit
from scoring.population.generate import population_draw
from sesame_portal.errors import ServiceError

AGE_BANDS = ((16, 24), (25, 34), (35, 44), (45, 59), (60, 120))
DIRECTIONS = {HIGHER_IS_BETTER, HIGHER_IS_WORSE, UNKNOWN_DIRECTION}


class TrainingError(ServiceError):
    """Bad training input: a clear message, nothing written."""


@dataclass
class Dataset:
    frame: pd.DataFrame
    y: np.ndarray
    specs: list[FeatureSpec]
    source: dict
    ids: np.ndarray | None = None
    p_true: np.ndarray | None = None
    gender: np.ndarray | None = None
    age: np.ndarray | None = None
    id_column: str = "id"
    columns: list[str] = field(default_factory=list)


def dataset_synthetic(*, users: int, seed: int, as_of: datetime.date | None = None) -> Dataset:
    population = population_draw(users=users, seed=seed, as_of=as_of)
    return Dataset(
        frame=population.features,
        y=population.defaulted.astype(int),
        specs=[FeatureSpec(f.name, f.dimension, "numeric", f.direction) for f in FEATURES],
        source={
            "kind": "synthetic",
            "users": users,
            "seed": seed,
            "as_of": population.as_of.isoformat(),
        },
        ids=population.features.index.to_numpy(),
        p_true=population.p_default,
        gender=population.traits["gender"].to_numpy(),
        age=population.traits["age"].to_numpy(),
        columns=[f.name for f in FEATURES],
    )


def mapping_read(path: str | Path) -> dict:
    try:
        mapping = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrainingError("mapping", f"Cannot read the mapping file: {exc}") from None
    if (
        not isinstance(mapping, dict)
        or "target" not in mapping
        or not isinstance(mapping.get("features"), dict)
        or not mapping["features"]
    ):
        raise TrainingError("mapping", 'The mapping needs "target" and a non-empty "features".')
    for column, spec in mapping["features"].items():
        if not isinstance(spec, dict) or spec.get("dimension") not in DIMENSIONS:
            raise TrainingError("mapping", f"{column}: dimension must be one of {DIMENSIONS}.")
        if spec.get("kind", "numeric") not in ("numeric", "categorical"):
            raise TrainingError("mapping", f"{column}: kind must be numeric or categorical.")
        if spec.get("direction", UNKNOWN_DIRECTION) not in DIRECTIONS:
            raise TrainingError("mapping", f"{column}: direction must be one of {DIRECTIONS}.")
    return mapping


def csv_frame(path: str | Path, mapping: dict, *, need_target: bool) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TrainingError("csv", f"Cannot read the CSV: {exc}") from None
    wanted = list(mapping["features"]) + ([mapping["target"]] if need_target else [])
    if mapping.get("id"):
        wanted.append(mapping["id"])
    missing = [column for column in wanted if column not in frame.columns]
    if missing:
        raise TrainingError("csv", f"Columns named in the mapping are missing: {missing}.")
    return frame


def features_from_csv(frame: pd.DataFrame, mapping: dict) -> pd.DataFrame:
    """Numeric columns become floats (garbage becomes missing); categoricals stay text."""
    out = pd.DataFrame(index=frame.index)
    for column, spec in mapping["features"].items():
        if spec.get("kind", "numeric") == "numeric":
            out[column] = pd.to_numeric(frame[column].str.strip(), errors="coerce")
        else:
            out[column] = frame[column].str.strip().replace("", None)
    return out


def dataset_from_csv(*, csv_path: str | Path, mapping_path: str | Path) -> Dataset:
    mapping = mapping_read(mapping_path)
    frame = csv_frame(csv_path, mapping, need_target=True)
    target = frame[mapping["target"]].str.strip()
    bad_value = str(mapping.get("bad_value", "1")).strip()
    labelled = target != ""
    frame, target = frame[labelled].reset_index(drop=True), target[labelled]
    y = (target.to_numpy() == bad_value).astype(int)
    if len(y) < 50 or y.sum() < 5 or (len(y) - y.sum()) < 5:
        raise TrainingError(
            "target",
            "The target needs at least 5 bad and 5 good rows (found "
            f"{int(y.sum())} bad, {int(len(y) - y.sum())} good).",
        )
    specs = [
        FeatureSpec(
            column,
            spec["dimension"],
            spec.get("kind", "numeric"),
            spec.get("direction", UNKNOWN_DIRECTION),
        )
        for column, spec in mapping["features"].items()
    ]
    ids = frame[mapping["id"]].to_numpy() if mapping.get("id") else None
    return Dataset(
        frame=features_from_csv(frame, mapping),
        y=y,
        specs=specs,
        source={"kind": "csv", "file": Path(csv_path).name, "rows": len(y), "mapping": mapping},
        ids=ids,
        id_column=mapping.get("id") or "id",
        columns=list(mapping["features"]),
    )


def ks_statistic(y: np.ndarray, risk: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y, risk)
    return float(np.max(tpr - fpr))


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability of `actual` scores against `expected`, over the bands."""
    edges = [low for _, low, _ in BANDS[1:]]
    e = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=len(BANDS))
    a = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=len(BANDS))
    e = np.clip(e / max(e.sum(), 1), 1e-6, None)
    a = np.clip(a / max(a.sum(), 1), 1e-6, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _by_band(scores: np.ndarray, y: np.ndarray, predicted: np.ndarray) -> list[dict]:
    rows = []
    for name, low, high in BANDS:
        inside = (scores >= low) & (scores <= high)
        count = int(inside.sum())
        rows.append(
            {
                "band": name,
                "low": low,
                "high": high,
                "count": count,
                "observed_default_rate": float(y[inside].mean()) if count else None,
                "predicted_default_rate": float(predicted[inside].mean()) if count else None,
            }
        )
    return rows


def _gaps(scores: np.ndarray, gender: np.ndarray | None, age: np.ndarray | None) -> dict:
    gaps: dict = {}
    if gender is not None:
        means = {g: float(scores[gender == g].mean()) for g in ("M", "F") if (gender == g).any()}
        gaps["gender"] = {
            "mean_score": means,
            "gap_male_minus_female": means.get("M", 0) - means.get("F", 0),
        }
    if age is not None:
        gaps["age_band"] = {
            f"{low}-{high if high < 120 else ''}".rstrip("-") + ("+" if high >= 120 else ""): float(
                scores[(age >= low) & (age <= high)].mean()
            )
            for low, high in AGE_BANDS
            if ((age >= low) & (age <= high)).any()
        }
    return gaps


def _challenger(train: pd.DataFrame, y: np.ndarray, test: pd.DataFrame, specs) -> np.ndarray:
    numeric = [s for s in specs if s.kind == "numeric"]
    constraints = [
        1 if s.direction == HIGHER_IS_WORSE else -1 if s.direction == HIGHER_IS_BETTER else 0
        for s in numeric
    ]
    model = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.08, monotonic_cst=constraints, random_state=0
    )
    columns = [s.name for s in numeric]
    model.fit(train[columns].to_numpy(dtype=float), y)
    return model.predict_proba(test[columns].to_numpy(dtype=float))[:, 1]


@dataclass(frozen=True)
class HeldOutFigures:
    auc: float
    ks: float
    psi: float  # of the test rows' scores against the training rows'
    bands: list[dict]  # observed and predicted default rate by band
    scores: np.ndarray  # the test rows' scores


def scorecard_evaluate(
    card: Scorecard, *, train: pd.DataFrame, test: pd.DataFrame, y_test: np.ndarray
) -> HeldOutFigures:
    """A scorecard's figures on held-out rows, as the model card reports the champion's
    (the benchmark reports the plain scorecard's with the same function)."""
    totals = card.total(card.points(test))
    scores = card.scores(totals)
    risk = -totals
    train_scores = card.scores(card.total(card.points(train)))
    return HeldOutFigures(
        auc=roc_auc_score(y_test, risk),
        ks=ks_statistic(y_test, risk),
        psi=psi(train_scores, scores),
        bands=_by_band(scores, y_test, card.p_default(totals)),
        scores=scores,
    )


@dataclass
class TrainingResult:
    scorecard: Scorecard
    card: dict


def model_train(dataset: Dataset, *, seed: int = 0, challenger: bool = True) -> TrainingResult:
    """Fit on 70 %, report on the held-out 30 %. The monotone scorecard is the champion;
    on external CSV data the plain WOE scorecard replaces it when it validates better
    inside the training part. Both are additive scorecards."""
    started = time.perf_counter()
    index = np.arange(len(dataset.y))
    train_idx, test_idx = train_test_split(
        index, test_size=0.3, random_state=seed, stratify=dataset.y
    )
    frame, y = dataset.frame, dataset.y
    chosen = "monotone"
    if dataset.source["kind"] == "csv":
        # Portal features have documented directions: a better value never earns fewer
        # points. External data may not; there the plain WOE bins may validate better.
        fit_idx, val_idx = train_test_split(
            train_idx, test_size=0.2, random_state=seed, stratify=y[train_idx]
        )
        candidates = {}
        for name, monotone in (("monotone", True), ("plain", False)):
            card = scorecard_fit(frame.iloc[fit_idx], y[fit_idx], dataset.specs, monotone=monotone)
            risk = -card.total(card.points(frame.iloc[val_idx]))
            candidates[name] = roc_auc_score(y[val_idx], risk)
        chosen = max(candidates, key=lambda name: (candidates[name], name == "monotone"))
    champion = scorecard_fit(
        frame.iloc[train_idx], y[train_idx], dataset.specs, monotone=chosen == "monotone"
    )
    fit_seconds = time.perf_counter() - started
    baseline = scorecard_fit(frame.iloc[train_idx], y[train_idx], dataset.specs, monotone=False)

    test, y_test = frame.iloc[test_idx], y[test_idx]
    held_out = scorecard_evaluate(champion, train=frame.iloc[train_idx], test=test, y_test=y_test)
    auc = held_out.auc
    metrics = {
        "auc": auc,
        "gini": 2 * auc - 1,
        "ks": held_out.ks,
        "psi_test_vs_train": held_out.psi,
        "test_rows": len(test_idx),
        "train_rows": len(train_idx),
        "default_rate": float(y.mean()),
        "fit_seconds": fit_seconds,
        "binning": chosen,
    }
    if dataset.p_true is not None:
        true_auc = roc_auc_score(y_test, dataset.p_true[test_idx])
        metrics["true_probability_auc"] = true_auc
        metrics["auc_ratio_to_true"] = auc / true_auc
    baseline_risk = -baseline.total(baseline.points(test))
    comparisons = {
        "baseline_woe_logistic": {
            "auc": roc_auc_score(y_test, baseline_risk),
            "ks": ks_statistic(y_test, baseline_risk),
        }
    }
    if challenger:
        p = _challenger(frame.iloc[train_idx], y[train_idx], test, dataset.specs)
        comparisons["challenger_gradient_boosting_monotone"] = {
            "auc": roc_auc_score(y_test, p),
            "ks": ks_statistic(y_test, p),
        }
    card = {
        "source": dataset.source,
        "scaling": champion.scaling,
        "metrics": metrics,
        "comparisons": comparisons,
        "bands": held_out.bands,
        "fairness": _gaps(
            held_out.scores,
            None if dataset.gender is None else dataset.gender[test_idx],
            None if dataset.age is None else dataset.age[test_idx],
        ),
        "features": [
            {
                "name": f.name,
                "dimension": f.dimension,
                "kind": f.kind,
                "direction": f.direction,
                "bins": f.labels,
                "points": f.points,
                "missing_points": f.missing_points,
                "counts": f.counts,
                "bad_rates": f.bad_rates,
            }
            for f in champion.features
        ],
        "base_points": champion.base_points,
        "dimensions": {
            d: champion.dimension_range(d)
            for d in DIMENSIONS
            if any(f.dimension == d for f in champion.features)
        },
    }
    return TrainingResult(scorecard=champion, card=_plain(card))


def _plain(value):
    """JSON-safe numbers for the card."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
