"""Scoring fixtures. The session's trained scorecard (`trained`, `active_model`) and the
fresh model cache live in tests/conftest.py; records come from tests.factories."""

from __future__ import annotations

import copy

import pytest

from scoring.ml.training import TrainingResult


@pytest.fixture(scope="session")
def trained_plus_ten(trained) -> TrainingResult:
    """The same scorecard with 10 more base points: a second, distinguishable version."""
    scorecard = copy.deepcopy(trained.scorecard)
    scorecard.base_points += 10
    return TrainingResult(
        scorecard=scorecard, card=dict(trained.card, base_points=scorecard.base_points)
    )
