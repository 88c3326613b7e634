"""A model card as staff read it in the admin: every key the card stores (metrics,
comparisons, bands, directions, groups) under a name in the reader's language, and the
group gaps as table rows instead of the raw JSON. A key this module does not know (a
model trained on an external CSV names its own features) is shown as it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from scoring.explain.reasons import DIMENSION_LABELS, FEATURE_LABELS
from scoring.ml.features import HIGHER_IS_BETTER, HIGHER_IS_WORSE, UNKNOWN_DIRECTION
from scoring.models import ScoreSnapshot

METRIC_LABELS = {
    "auc": _("AUC (area under the ROC curve)"),
    "gini": _("Gini coefficient"),
    "ks": _("KS statistic"),
    "psi_test_vs_train": _("PSI of test scores against training scores"),
    "test_rows": _("Test rows"),
    "train_rows": _("Training rows"),
    "default_rate": _("Default rate"),
    "fit_seconds": _("Fitting time (seconds)"),
    "binning": _("Binning"),
    "true_probability_auc": _("AUC of the true probabilities"),
    "auc_ratio_to_true": _("AUC / true AUC"),
}
# The card's order for the figures a reader looks for first; others follow as stored.
METRIC_ORDER = list(METRIC_LABELS)
BINNING_LABELS = {"monotone": _("monotone bins"), "plain": _("plain WOE bins")}
COMPARISON_LABELS = {
    "baseline_woe_logistic": _("Baseline: WOE logistic scorecard"),
    "challenger_gradient_boosting_monotone": _("Challenger: monotone gradient boosting"),
}
DIRECTION_LABELS = {
    HIGHER_IS_BETTER: _("higher is better"),
    HIGHER_IS_WORSE: _("higher is worse"),
    UNKNOWN_DIRECTION: _("direction unknown"),
}
GENDER_LABELS = {"M": _("Men"), "F": _("Women")}


EN_DASH = "\u2013"


def _lowest_age(band: str) -> int:
    """The first age of a band the card names "16-24" or "60+"."""
    return int(re.match(r"\d*", band)[0] or 0)


def _named(labels: dict, key: str) -> str:
    return str(labels.get(key, key))


@dataclass(frozen=True)
class GapRow:
    group: str
    mean_score: float | None
    is_gap: bool = False  # a difference between two groups, not a group's mean


@dataclass(frozen=True)
class GapSection:
    title: str
    rows: list[GapRow]


def metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    ordered = sorted(
        metrics, key=lambda k: METRIC_ORDER.index(k) if k in METRIC_ORDER else len(METRIC_ORDER)
    )
    rows = []
    for key in ordered:
        value = metrics[key]
        if key == "binning":
            shown = _named(BINNING_LABELS, value)
        elif isinstance(value, float):
            shown = f"{value:.4f}"
        else:
            shown = str(value)
        rows.append((_named(METRIC_LABELS, key), shown))
    return rows


def comparison_rows(comparisons: dict[str, dict]) -> list[tuple[str, dict]]:
    return [(_named(COMPARISON_LABELS, key), figures) for key, figures in comparisons.items()]


def band_rows(bands: list[dict]) -> list[dict]:
    labels = dict(ScoreSnapshot.Band.choices)
    return [{**band, "label": _named(labels, band["band"])} for band in bands]


def gap_sections(fairness: dict[str, Any]) -> list[GapSection]:
    """The mean score of each group the card measured (gender, age band) and the gap
    between men and women: what the public page publishes, per version."""
    sections = []
    gender = fairness.get("gender")
    if gender:
        rows = [
            GapRow(_named(GENDER_LABELS, key), mean)
            for key, mean in sorted(gender.get("mean_score", {}).items(), reverse=True)
        ]
        if "gap_male_minus_female" in gender:
            rows.append(
                GapRow(str(_("Gap (men minus women)")), gender["gap_male_minus_female"], True)
            )
        sections.append(GapSection(str(_("Gender")), rows))
    ages = fairness.get("age_band")
    if ages:
        # Youngest first (the stored JSON keeps no order).
        youngest_first = sorted(ages.items(), key=lambda item: _lowest_age(item[0]))
        rows = [
            GapRow(str(_("%(band)s years") % {"band": band.replace("-", EN_DASH)}), mean)
            for band, mean in youngest_first
        ]
        sections.append(GapSection(str(_("Age band")), rows))
    known = {"gender", "age_band"}
    for key, figures in fairness.items():
        if key not in known:  # a group a later card adds: shown plainly, not dropped
            sections.append(GapSection(key, [GapRow(str(figures), None)]))
    return sections


def feature_rows(features: list[dict]) -> list[dict]:
    return [
        {
            **f,
            "label": _named(FEATURE_LABELS, f["name"]),
            "dimension_label": _named(DIMENSION_LABELS, f["dimension"]),
            "direction_label": _named(DIRECTION_LABELS, f["direction"]),
            "rows": list(zip(f["bins"], f["points"], f["counts"], f["bad_rates"], strict=False)),
        }
        for f in features
    ]


def model_card_context(card: dict[str, Any]) -> dict[str, Any]:
    return {
        "card": card,
        "metrics": metric_rows(card.get("metrics", {})),
        "comparisons": comparison_rows(card.get("comparisons", {})),
        "bands": band_rows(card.get("bands", [])),
        "gaps": gap_sections(card.get("fairness", {})),
        "features": feature_rows(card.get("features", [])),
    }
