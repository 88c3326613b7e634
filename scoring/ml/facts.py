"""What the public model page says: each dimension's items, the active model's version
and headline figures from its card, and the score gaps by gender and age band."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import get_language

from accounts.models import SectionVerification
from scoring.explain.reasons import DIMENSION_LABELS, FEATURE_LABELS
from scoring.ml.declared import DECLARED_POINTS_CAP
from scoring.ml.features import DIMENSIONS, FEATURES
from scoring.models import ModelVersion
from scoring.views.home import nightly_next


@dataclass(frozen=True)
class DimensionFacts:
    key: str
    label: str
    items: list[str]


def _listed(labels) -> str:
    """Labels as a list in a sentence: 学历、车辆 in Chinese, "education, vehicle" in English."""
    if (get_language() or "").startswith("zh"):
        return "、".join(str(label) for label in labels)
    return ", ".join(str(label).lower() for label in labels)


def model_public_facts() -> dict:
    version = (
        ModelVersion.objects.filter(kind=ModelVersion.Kind.PORTAL, is_active=True)
        .defer("artifact")
        .first()
    )
    card = version.card if version else {}
    metrics = card.get("metrics", {})
    fairness = card.get("fairness", {})
    gender = fairness.get("gender", {})
    return {
        "dimensions": [
            DimensionFacts(
                key=dimension,
                label=str(DIMENSION_LABELS[dimension]),
                items=[str(FEATURE_LABELS[f.name]) for f in FEATURES if f.dimension == dimension],
            )
            for dimension in DIMENSIONS
        ],
        "version": version,
        "auc": metrics.get("auc"),
        "gini": metrics.get("gini"),
        "ks": metrics.get("ks"),
        "test_rows": metrics.get("test_rows"),
        "source": card.get("source"),
        "gender_means": gender.get("mean_score", {}),
        "gender_gap": gender.get("gap_male_minus_female"),
        "age_means": fairness.get("age_band", {}),
        "next_run": nightly_next(now=timezone.now()),
        # How declared and verified answers count (scoring.ml.declared).
        "declared_cap": DECLARED_POINTS_CAP,
        "verifiable_sections": _listed(SectionVerification.Section.labels),
    }
