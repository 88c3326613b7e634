"""The champion model: an additive scorecard. Each feature is cut into bins (bad rates
monotone where the direction is known or learned, "missing" a bin of its own), bins are
weight-of-evidence encoded, a logistic regression weighs them, and points are scaled so
that the score is the base points plus each feature's points, exactly.

Scaling (documented, stored in every artifact): BASE_SCORE points at BASE_ODDS good:bad
odds, PDO points to double the odds, rounded to whole points and bounded to
SCORE_MIN..SCORE_MAX. `score_from_odds` is the one place that turns odds into a score;
everything that shows, stores or measures a score goes through it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from scoring.ml.features import HIGHER_IS_BETTER, HIGHER_IS_WORSE, UNKNOWN_DIRECTION

BASE_SCORE = 650
BASE_ODDS = 19.0  # 19:1 good:bad, a 5 % default rate
PDO = 45
SCORE_MIN, SCORE_MAX = 350, 950
# The same scale per unit of natural log-odds, for the scorecard's points: a fitted model's
# log-odds become points by this factor, and points go back to odds by its inverse.
POINTS_PER_LOG_ODDS = PDO / math.log(2)
POINTS_AT_EVEN_ODDS = BASE_SCORE - POINTS_PER_LOG_ODDS * math.log(BASE_ODDS)
MAX_BINS = 16
MIN_BIN_SHARE = 0.01  # of all rows; rare but telling values (court-listed friends) keep a bin
MIN_BIN_ROWS = 30
SMOOTHING = 0.5


def score_from_odds(odds_good: np.ndarray, *, raw: bool = False) -> np.ndarray:
    """The score scaling, the one place it is written: BASE_SCORE points at BASE_ODDS:1
    good:bad odds and PDO points more each time the odds double; the score people see is
    that rounded to whole points (half to even) and kept within SCORE_MIN..SCORE_MAX, as
    whole numbers. `raw=True` gives the scale itself, neither rounded nor bounded (the
    synthetic population's "score a person roughly had"). Vectorised over numpy arrays;
    a scorecard's totals come here through `Scorecard.scores`."""
    with np.errstate(divide="ignore"):  # odds of 0 are -inf points: bounded to SCORE_MIN
        scaled = BASE_SCORE + PDO * np.log2(np.asarray(odds_good, dtype=float) / BASE_ODDS)
    if raw:
        return scaled
    return np.clip(np.rint(scaled), SCORE_MIN, SCORE_MAX).astype(int)


@dataclass
class FeatureBins:
    """Bins of one feature. Numeric: bin i holds values <= edges[i] (the last is +inf).
    Categorical: `categories` maps a level to its bin; unseen levels use `other_bin`."""

    name: str
    dimension: str
    kind: str  # "numeric" or "categorical"
    direction: str
    edges: list[float] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)
    other_bin: int | None = None
    points: list[int] = field(default_factory=list)
    missing_points: int = 0
    labels: list[str] = field(default_factory=list)
    woe: list[float] = field(default_factory=list)
    missing_woe: float = 0.0
    counts: list[int] = field(default_factory=list)
    bad_rates: list[float] = field(default_factory=list)

    def bin_index(self, values: pd.Series) -> np.ndarray:
        """Bin of each value, -1 for missing (and for unseen levels with no other bin)."""
        if self.kind == "numeric":
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            index = np.searchsorted(np.asarray(self.edges[:-1], dtype=float), x, side="left")
            return np.where(np.isnan(x), -1, index)
        mapped = values.astype("string").map(self.categories)
        fallback = -1 if self.other_bin is None else self.other_bin
        known = values.notna().to_numpy() & (values.astype("string") != "").to_numpy()
        return np.where(known, mapped.fillna(fallback).to_numpy(dtype=float), -1).astype(int)

    def points_of(self, values: pd.Series) -> np.ndarray:
        index = self.bin_index(values)
        table = np.asarray([*self.points, self.missing_points], dtype=float)
        return table[np.where(index < 0, len(self.points), index)]


@dataclass
class Scorecard:
    features: list[FeatureBins]
    base_points: int
    typical_points: dict[str, float]
    scaling: dict = field(
        default_factory=lambda: {
            "base_score": BASE_SCORE,
            "base_odds": BASE_ODDS,
            "pdo": PDO,
            "min": SCORE_MIN,
            "max": SCORE_MAX,
        }
    )

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def points(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Points of every feature for every row: one vectorised lookup per feature."""
        return pd.DataFrame(
            {
                f.name: f.points_of(frame[f.name]) if f.name in frame else f.missing_points
                for f in self.features
            },
            index=frame.index,
        )

    def total(self, points: pd.DataFrame) -> np.ndarray:
        return self.base_points + points.to_numpy().sum(axis=1)

    def scores(self, totals: np.ndarray) -> np.ndarray:
        """The scores shown for these totals of points (`total`), through the one scaling.
        Totals are whole points, so the way through odds gives them back exactly before
        rounding (tests/scoring/test_scaling.py checks every total from -2,000 to 3,000)."""
        return score_from_odds(self.odds_good(totals))

    def odds_good(self, totals: np.ndarray) -> np.ndarray:
        """The good:bad odds that these totals of points stand for."""
        points = np.asarray(totals, dtype=float) - POINTS_AT_EVEN_ODDS
        return np.exp(points / POINTS_PER_LOG_ODDS)

    def p_default(self, totals: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + self.odds_good(totals))

    def dimension_range(self, dimension: str) -> tuple[int, int]:
        lows = highs = 0
        for f in self.features:
            if f.dimension == dimension:
                options = [*f.points, f.missing_points]
                lows += min(options)
                highs += max(options)
        return lows, highs

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Scorecard:
        return cls(
            features=[FeatureBins(**f) for f in data["features"]],
            base_points=int(data["base_points"]),
            typical_points={k: float(v) for k, v in data["typical_points"].items()},
            scaling=data.get("scaling", {}),
        )


def _woe(good: np.ndarray, bad: np.ndarray) -> np.ndarray:
    total_good, total_bad = good.sum() + SMOOTHING, bad.sum() + SMOOTHING
    return np.log(((good + SMOOTHING) / total_good) / ((bad + SMOOTHING) / total_bad))


def _merge_monotone(counts: list[int], bads: list[int], edges: list[float], increasing: bool):
    """Merge adjacent bins until bad rates move one way only (pool adjacent violators)."""
    counts, bads, edges = list(counts), list(bads), list(edges)
    changed = True
    while changed and len(counts) > 1:
        changed = False
        for i in range(len(counts) - 1):
            left = bads[i] / max(counts[i], 1)
            right = bads[i + 1] / max(counts[i + 1], 1)
            if (increasing and right < left) or (not increasing and right > left):
                counts[i] += counts.pop(i + 1)
                bads[i] += bads.pop(i + 1)
                edges.pop(i)
                changed = True
                break
    return counts, bads, edges


def _merge_small(counts, bads, edges, minimum: int):
    counts, bads, edges = list(counts), list(bads), list(edges)
    while len(counts) > 1 and min(counts) < minimum:
        i = int(np.argmin(counts))
        j = i + 1 if i == 0 or (i + 1 < len(counts) and counts[i + 1] < counts[i - 1]) else i - 1
        lo, hi = min(i, j), max(i, j)
        counts[lo] += counts.pop(hi)
        bads[lo] += bads.pop(hi)
        edges.pop(lo)
    return counts, bads, edges


def bin_numeric(
    name: str,
    dimension: str,
    direction: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    monotone: bool = True,
    max_bins: int = MAX_BINS,
) -> FeatureBins:
    present = ~np.isnan(x)
    xs, ys = x[present], y[present]
    if len(xs) == 0:
        return FeatureBins(
            name,
            dimension,
            "numeric",
            direction,
            edges=[math.inf],
            points=[0],
            counts=[0],
            bad_rates=[0.0],
            labels=["all"],
        )
    quantiles = np.unique(np.quantile(xs, np.linspace(0, 1, max_bins + 1)[1:-1]))
    edges = [*quantiles.tolist(), math.inf]
    index = np.searchsorted(np.asarray(edges[:-1]), xs, side="left")
    counts = np.bincount(index, minlength=len(edges)).tolist()
    bads = np.bincount(index, weights=ys, minlength=len(edges)).astype(int).tolist()
    keep = [i for i, c in enumerate(counts) if c > 0]
    counts = [counts[i] for i in keep]
    bads = [bads[i] for i in keep]
    edges = [edges[i] for i in keep]
    edges[-1] = math.inf
    counts, bads, edges = _merge_small(
        counts, bads, edges, max(MIN_BIN_ROWS, int(MIN_BIN_SHARE * len(y)))
    )
    if monotone:
        if direction == HIGHER_IS_WORSE:
            increasing = True
        elif direction == HIGHER_IS_BETTER:
            increasing = False
        else:  # learned: the way bad rates move across the value range
            rates = np.asarray(bads) / np.maximum(counts, 1)
            increasing = (
                bool(np.corrcoef(np.arange(len(rates)), rates)[0, 1] >= 0)
                if len(rates) > 1 and rates.std() > 0
                else True
            )
            direction = HIGHER_IS_WORSE if increasing else HIGHER_IS_BETTER
        counts, bads, edges = _merge_monotone(counts, bads, edges, increasing)
    labels, low = [], -math.inf
    for edge in edges:
        labels.append(f"({low:g}, {edge:g}]")
        low = edge
    return FeatureBins(
        name,
        dimension,
        "numeric",
        direction,
        edges=edges,
        counts=counts,
        bad_rates=[b / max(c, 1) for b, c in zip(bads, counts, strict=True)],
        labels=labels,
    )


def bin_categorical(name: str, dimension: str, values: pd.Series, y: np.ndarray) -> FeatureBins:
    present = values.notna() & (values.astype("string") != "")
    levels = values[present].astype("string")
    shares = levels.value_counts(normalize=True)
    kept = [str(level) for level, share in shares.items() if share >= MIN_BIN_SHARE]
    categories = {level: i for i, level in enumerate(kept)}
    other_bin = len(kept) if len(kept) < len(shares) else None
    labels = [*kept, *(["other"] if other_bin is not None else [])]
    index = levels.map(categories).fillna(other_bin if other_bin is not None else -1)
    index = index.to_numpy(dtype=int)
    yy = y[present.to_numpy()]
    counts = np.bincount(index[index >= 0], minlength=len(labels)).tolist()
    bads = (
        np.bincount(index[index >= 0], weights=yy[index >= 0], minlength=len(labels))
        .astype(int)
        .tolist()
    )
    return FeatureBins(
        name,
        dimension,
        "categorical",
        UNKNOWN_DIRECTION,
        categories=categories,
        other_bin=other_bin,
        counts=counts,
        bad_rates=[b / max(c, 1) for b, c in zip(bads, counts, strict=True)],
        labels=labels,
    )


def _fill_woe(bins: FeatureBins, values: pd.Series, y: np.ndarray, *, monotone: bool) -> np.ndarray:
    index = bins.bin_index(values)
    slots = len(bins.counts) + 1  # the last slot is "missing"
    slot = np.where(index < 0, slots - 1, index)
    bad = np.bincount(slot, weights=y, minlength=slots)
    good = np.bincount(slot, weights=1 - y, minlength=slots)
    woe = _woe(good, bad)
    if monotone and bins.kind == "numeric" and len(woe) > 2:
        # Smoothing can bend small bins out of line again: keep the evidence monotone so
        # a better value never earns fewer points.
        ordered = woe[:-1]
        if bins.direction == HIGHER_IS_BETTER:
            woe[:-1] = np.maximum.accumulate(ordered)
        elif bins.direction == HIGHER_IS_WORSE:
            woe[:-1] = np.minimum.accumulate(ordered)
    if good[-1] + bad[-1] == 0:
        woe[-1] = 0.0  # never missing in training: missing later counts as neutral
    bins.woe = woe[:-1].tolist()
    bins.missing_woe = float(woe[-1])
    return woe[slot]


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    dimension: str
    kind: str = "numeric"
    direction: str = UNKNOWN_DIRECTION


def scorecard_fit(
    frame: pd.DataFrame,
    y: np.ndarray,
    specs: list[FeatureSpec],
    *,
    monotone: bool = True,
    max_bins: int | None = None,
) -> Scorecard:
    """Fit bins, weights and points on training rows. `monotone=False` with quantile bins
    is the plain WOE scorecard used as the baseline."""
    # Imported here: scoring (the web and worker hot path) never needs scikit-learn.
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=float)
    binned, columns = [], []
    for spec in specs:
        if spec.kind == "categorical":
            bins = bin_categorical(spec.name, spec.dimension, frame[spec.name], y)
        else:
            values = pd.to_numeric(frame[spec.name], errors="coerce").to_numpy(dtype=float)
            bins = bin_numeric(
                spec.name,
                spec.dimension,
                spec.direction,
                values,
                y,
                monotone=monotone,
                max_bins=max_bins or MAX_BINS,
            )
        binned.append(bins)
        columns.append(_fill_woe(bins, frame[spec.name], y, monotone=monotone))
    woe = np.column_stack(columns)
    active = list(range(len(binned)))
    # WOE is oriented so that a higher value means fewer defaults: a positive weight on
    # the default probability would reverse a bin's meaning, so such features are dropped.
    while True:
        model = LogisticRegression(C=1.0, max_iter=1000)
        model.fit(woe[:, active], y)
        coefficients = model.coef_[0]
        worst = int(np.argmax(coefficients))
        if coefficients[worst] <= 0 or len(active) == 1:
            break
        # Drop only the worst offender: the others often come right once it is gone.
        active = [i for position, i in enumerate(active) if position != worst]
    factor = POINTS_PER_LOG_ODDS
    weights = dict(zip(active, model.coef_[0], strict=True))
    for i, bins in enumerate(binned):
        beta = weights.get(i, 0.0)
        bins.points = [round(-factor * beta * w) for w in bins.woe]
        bins.missing_points = round(-factor * beta * bins.missing_woe)
    base_points = round(POINTS_AT_EVEN_ODDS - factor * model.intercept_[0])
    card = Scorecard(features=binned, base_points=base_points, typical_points={})
    points = card.points(frame)
    card.typical_points = {name: float(points[name].mean()) for name in points.columns}
    return card
