"""Score bands, as the portal names them (350-549 较差 … 700-950 极好)."""

from __future__ import annotations

from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN

BANDS = (
    ("poor", SCORE_MIN, 549),
    ("fair", 550, 599),
    ("good", 600, 649),
    ("very_good", 650, 699),
    ("excellent", 700, SCORE_MAX),
)


def band_of(score: float) -> str:
    for name, low, high in BANDS:
        if low <= score <= high:
            return name
    return "poor" if score < BANDS[0][1] else "excellent"
