"""The score on the home page and the what-if page."""

from __future__ import annotations

import pytest
from django.test import Client

from scoring.models import ScoreSnapshot
from scoring.services.scores import score_recompute
from tests.factories import grant, make_user, solid_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(active_model):
    user = make_user("paged")
    grant(user)
    solid_file(user)
    snapshot = score_recompute(user=user, trigger="test")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return user, snapshot, client


def test_home_shows_the_score_band_dimensions_and_reasons(scored):
    _user, snapshot, client = scored

    page = client.get("/").content.decode()

    assert f'text-anchor="middle">{snapshot.score}</text>' in page
    assert snapshot.get_band_display() in page
    # A bar for each dimension with data; connections (no friends) is "no data yet".
    assert page.count("<meter") == len(snapshot.dimensions) - 1
    assert page.count('class="dimension-no-data"') == 1
    assert "What helped" in page or "What hurt" in page


def test_home_hides_the_score_once_scoring_consent_is_revoked(scored):
    user, snapshot, client = scored
    grant_row = user.consent_grants.get(purpose="scoring")
    client.post(f"/accounts/consents/{grant_row.pk}/revoke/")

    page = client.get("/").content.decode()

    assert 'class="gauge"' not in page
    assert f">{snapshot.score}<" not in page


def test_what_if_page_shows_the_new_score_and_saves_nothing(scored):
    _user, snapshot, client = scored
    before = ScoreSnapshot.objects.count()

    response = client.post(
        "/score/what-if/",
        {"work_email_verified": "on", "provident_fund_months": "120"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="what-if-result"' in html
    assert "<html" not in html
    assert f"Today: {snapshot.score}" in html
    assert ScoreSnapshot.objects.count() == before


def test_what_if_page_with_nothing_chosen_asks_for_a_change(scored):
    _user, _snapshot, client = scored

    response = client.post("/score/what-if/", {})

    assert "Choose at least one change" in response.content.decode()


def test_what_if_page_without_consent_says_why(active_model):
    user = make_user("unconsented")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)

    response = client.post("/score/what-if/", {"complete_profile": "on"})

    assert "consent" in response.content.decode()


def test_what_if_page_needs_login(client):
    response = client.get("/score/what-if/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_admin_shows_the_model_card_and_serves_it_as_json(active_model, admin_client):
    page = admin_client.get(f"/admin/scoring/modelversion/{active_model.pk}/change/")
    card = admin_client.get(f"/admin/scoring/modelversion/{active_model.pk}/card.json")

    assert page.status_code == 200
    assert "ch_on_time_rate" in page.content.decode()
    assert card.status_code == 200
    assert card.json()["sha256"] == active_model.sha256
    assert "auc" in card.json()["metrics"]


def test_model_card_json_is_for_staff_only(active_model, client):
    response = client.get(f"/admin/scoring/modelversion/{active_model.pk}/card.json")

    assert response.status_code == 302


def test_the_admin_shows_a_snapshots_points_by_feature(scored, admin_client):
    _user, snapshot, _client = scored

    page = admin_client.get(f"/admin/scoring/scoresnapshot/{snapshot.pk}/change/")

    assert page.status_code == 200
    assert "ch_on_time_rate " in page.content.decode()
