"""Score scaling is one function, `score_from_odds`: every place that turns a model's
output into a score (training, the recompute, score_csv, what-if, the synthetic population)
gives the same number as that function."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from scoring.management.commands import score_csv
from scoring.ml import training
from scoring.ml.scorecard import Scorecard, score_from_odds
from scoring.population import generate as population
from scoring.services import scores as services

# From a safe 1 in 10,000 to a likely default: 950 (bounded), 757, 650, 549, 459, 350 (bounded).
PROBABILITIES = np.array([0.0001, 0.01, 0.05, 0.2, 0.5, 0.9])


def _odds(p: np.ndarray) -> np.ndarray:
    return (1 - p) / p


def _flat_card(p: float) -> Scorecard:
    """A scorecard that predicts `p` for everyone: no features, its base points the exact
    (unrounded) place of `p` on the scale."""
    raw = float(score_from_odds(_odds(np.array([p])), raw=True)[0])
    return Scorecard(features=[], base_points=raw, typical_points={})


def test_the_one_function_is_the_documented_scale():
    assert score_from_odds(np.array([19.0, 38.0, 9.5])).tolist() == [650, 695, 605]
    assert score_from_odds(_odds(PROBABILITIES)).tolist() == [950, 757, 650, 549, 459, 350]
    raw = score_from_odds(np.array([19.0 * 2**10, 19.0 / 2**10]), raw=True)
    assert raw.tolist() == pytest.approx([650 + 450, 650 - 450])  # neither rounded nor bounded


def test_whole_totals_come_back_exactly_through_the_odds():
    totals = np.arange(-2000, 3001)
    card = Scorecard(features=[], base_points=0, typical_points={})

    assert card.scores(totals).tolist() == np.clip(totals, 350, 950).tolist()
    assert card.p_default(totals) == pytest.approx(1 / (1 + card.odds_good(totals)))


@pytest.mark.parametrize("p", PROBABILITIES)
def test_the_recompute_gives_the_one_functions_score(p):
    card = _flat_card(p)
    scored = services.scores_compute(
        model=SimpleNamespace(scorecard=card), features=pd.DataFrame(index=[1, 2])
    )

    assert scored.scores.tolist() == score_from_odds(_odds(np.array([p, p]))).tolist()


@pytest.mark.parametrize("p", PROBABILITIES)
def test_what_if_gives_the_one_functions_score(p, monkeypatch):
    monkeypatch.setattr(services, "consent_allows", lambda **kwargs: True)
    monkeypatch.setattr(services, "model_usable", lambda: SimpleNamespace(scorecard=_flat_card(p)))
    monkeypatch.setattr(
        services,
        "_features_for",
        lambda user: (pd.DataFrame({"ch_overdue_unpaid": [np.nan]}), None),
    )

    result = services.score_what_if(user=None, changes={"repay_overdue": True})

    assert result["score"] == result["current"] == score_from_odds(_odds(np.array([p])))[0]


@pytest.mark.parametrize("p", PROBABILITIES)
def test_score_csv_gives_the_one_functions_score(p, monkeypatch, tmp_path):
    mapping = {"features": {"x": {"dimension": "identity", "kind": "numeric"}}, "id": "id"}
    model = SimpleNamespace(scorecard=_flat_card(p), inputs={"mapping": mapping})
    monkeypatch.setattr(score_csv, "model_last_activated", lambda: SimpleNamespace(version="v"))
    monkeypatch.setattr(score_csv, "model_load", lambda version: model)
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("id,x\na,1\nb,2\n", encoding="utf-8")

    call_command("score_csv", csv=str(source), out=str(out), stdout=io.StringIO())

    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["score"]) for r in rows] == score_from_odds(_odds(np.array([p, p]))).tolist()
    assert [float(r["p_default"]) for r in rows] == pytest.approx([p, p], rel=1e-5)


@pytest.mark.parametrize("p", PROBABILITIES)
def test_training_measures_the_one_functions_score(p, monkeypatch):
    monkeypatch.setattr(training, "scorecard_fit", lambda *args, **kwargs: _flat_card(p))
    expected = int(score_from_odds(_odds(np.array([p])))[0])

    result = training.model_train(training.dataset_synthetic(users=400, seed=1), challenger=False)

    assert result.card["fairness"]["gender"]["mean_score"] == {"M": expected, "F": expected}
    (band,) = (b for b in result.card["bands"] if b["count"])  # everyone in one band
    assert band["low"] <= expected <= band["high"]


def test_the_population_generator_uses_the_same_scale():
    raw = population._score_like(PROBABILITIES)

    assert raw.tolist() == score_from_odds(_odds(PROBABILITIES), raw=True).tolist()
    assert (
        np.clip(np.rint(raw), 350, 950).tolist() == score_from_odds(_odds(PROBABILITIES)).tolist()
    )
