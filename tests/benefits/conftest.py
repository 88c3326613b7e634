"""Benefits fixtures: a partner and a benefit made the way admins make them, and an owner
with a verified identity, a scoring consent and a score set by a snapshot row: a snapshot
is what every reader of the score goes by, so no model is trained except for the
nightly-run test. The builders behind them are in tests.factories and tests.partner_api."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from scoring import selectors as scoring_selectors
from scoring.population.generate import population_draw
from scoring.population.store import population_save
from tests.factories import (
    grant_scoring,
    make_api_key,
    set_score,
    store_model,
    verify,
)
from tests.partner_api import partner_client


@pytest.fixture(autouse=True)
def _no_broker(recompute_calls):
    """Granting consent or verifying queues a recompute after commit; in transactional
    tests that would publish to the broker, so publishing is recorded instead."""
    return recompute_calls


@pytest.fixture
def scored_owner(owner, model_version) -> User:
    """The owner: verified (Beijing, born 1988), consenting, scored 650."""
    verify(owner)
    grant_scoring(owner)
    set_score(owner, 650, {"capacity": 60, "credit_history": 70}, model_version=model_version)
    return owner


@pytest.fixture
def api_key(partner) -> str:
    return make_api_key(partner, "primary")


@pytest.fixture
def partner_api(api_key, partner_cache) -> APIClient:
    return partner_client(api_key)


@pytest.fixture
def population(trained):
    """120 generated people (some court-listed, some without consent) and a model."""
    scoring_selectors._cache.clear()
    store_model(trained)
    population_save(population_draw(users=120, seed=77), prefix="bn77")
    yield
    scoring_selectors._cache.clear()
