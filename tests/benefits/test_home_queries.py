"""The score home shows benefit progress: its query count stays the same however long
the user's history and however large the catalogue (once a new score is drawn: its
drawings are cached, see tests/scoring/test_home_cache.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.clients import browser
from tests.factories import make_benefit, make_partner, set_score

pytestmark = pytest.mark.django_db


def test_home_queries_do_not_grow_with_history_or_catalogue(scored_owner, partner, model_version):
    make_benefit(partner, 600)
    make_benefit(partner, 900)
    client = browser(scored_owner)
    client.get("/")  # warm the session and the model cache
    with CaptureQueriesContext(connection) as small:
        response = client.get("/")
    assert response.status_code == 200
    assert "points away" in response.content.decode()

    for score in range(400, 950, 20):
        make_benefit(make_partner(f"Partner {score}"), score)
    for day in range(40):
        set_score(scored_owner, 700 + day % 5, model_version=model_version)
    client.get("/")  # the new score is drawn once
    with CaptureQueriesContext(connection) as large:
        response = client.get("/")

    assert response.status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
