"""A person's goal through the API and the page: set, read with its plan, replaced,
removed; bad targets refused with a code and nothing saved; another user's goal never
visible; a new score reaching the target tells the person once; the goal is exported."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.notifications import notification_text, notification_url
from benefits.models import Goal
from benefits.services.goals import goals_follow_scores
from scoring.services.scores import score_recompute
from sesame_portal.export import account_export
from tests.factories import (
    grant,
    make_benefit,
    make_id_number,
    make_user,
    solid_file,
    verify_identity,
    verify_work_email,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/me/goal/"


@pytest.fixture
def scored(active_model):
    """A verified, consenting person with an ordinary file and a real score."""
    user = make_user("planner")
    verify_identity(user, make_id_number(sequence="441"))
    grant(user)
    solid_file(user)
    score_recompute(user=user, trigger="test")
    return user


def _api(user):
    from rest_framework.test import APIClient

    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def test_a_score_goal_is_set_and_read_with_its_dated_plan(scored):
    api = _api(scored)
    answer = api.put(URL, {"score": 900, "levers": ["card_utilisation"]}, format="json")
    assert answer.status_code == 200, answer.json()
    body = api.get(URL).json()
    assert body["target_score"] == 900
    assert body["benefit"] is None
    assert body["levers"] == ["card_utilisation"]
    assert body["reached"] is False
    assert body["points_to_go"] == 900 - body["plan"]["score"]
    assert len(body["plan"]["months"]) == 12
    assert "estimate" in body["plan"]["estimate_note"]
    assert {row["lever"] for row in body["plan"]["levers"]} >= {"card_utilisation"}


def test_a_benefit_goal_takes_the_benefit_threshold(scored, partner):
    benefit = make_benefit(partner, 720)
    api = _api(scored)
    body = api.put(URL, {"benefit": benefit.pk}, format="json").json()
    assert body["benefit"] == benefit.pk
    assert body["target_score"] == 720
    # One goal per person: a new one replaces it.
    api.put(URL, {"score": 800}, format="json")
    assert Goal.objects.filter(user=scored).count() == 1
    assert api.get(URL).json()["target_score"] == 800


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "target_required"),
        ({"score": 700, "benefit": 1}, "target_required"),
        ({"score": 349}, "invalid_score"),
        ({"score": 951}, "invalid_score"),
        ({"score": "high"}, "invalid"),
        ({"benefit": 999999}, "unknown_benefit"),
        ({"score": 700, "levers": ["income_band"]}, "invalid"),
        ([1, 2], "invalid"),
    ],
)
def test_bad_targets_are_refused_with_a_code_and_nothing_saved(scored, payload, code):
    answer = _api(scored).put(URL, payload, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == code
    assert answer.json()["message"]
    assert not Goal.objects.exists()


def test_a_benefit_not_on_offer_is_refused(scored, partner):
    draft = make_benefit(partner, 650, status="draft")
    answer = _api(scored).put(URL, {"benefit": draft.pk}, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "unknown_benefit"


def test_another_users_goal_is_never_visible(scored, other_user):
    _api(scored).put(URL, {"score": 880}, format="json")
    other = _api(other_user)
    assert other.get(URL).status_code == 404
    assert other.delete(URL).status_code == 404
    assert Goal.objects.filter(user=scored).exists()
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(other_user)
    assert "880" not in page.get(reverse("benefits:goal")).content.decode()
    assert account_export(user=other_user)["goal"] is None


def test_the_goals_collection_of_the_contract_lists_and_sets_the_one_goal(scored, other_user):
    api = _api(scored)
    assert api.get("/api/v1/me/goals/").json() == []
    made = api.post("/api/v1/me/goals/", {"score": 820}, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["target_score"] == 820
    listed = api.get("/api/v1/me/goals/").json()
    assert [goal["target_score"] for goal in listed] == [820]
    assert listed[0]["plan"]["months"]
    refused = api.post("/api/v1/me/goals/", {"score": 2000}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_score"
    assert _api(other_user).get("/api/v1/me/goals/").json() == []


def test_delete_removes_the_goal(scored):
    api = _api(scored)
    api.put(URL, {"score": 700}, format="json")
    assert api.delete(URL).status_code == 204
    assert api.get(URL).status_code == 404


def test_login_is_required(api_client, client):
    assert api_client.get(URL).status_code in (401, 403)
    assert client.get(reverse("benefits:goal")).status_code == 302


def test_a_new_score_reaching_the_target_notifies_once(scored):
    before = scored.score_snapshots.latest("computed_at").score
    _api(scored).put(URL, {"score": before + 1}, format="json")
    assert Goal.objects.get(user=scored).reached_at is None
    # A verified work email raises the score; the recompute's own follow-up tells them.
    verify_work_email(scored)
    after = score_recompute(user=scored, trigger="test").score
    assert after > before
    score_recompute(user=scored, trigger="test")
    [note] = Notification.objects.filter(user=scored, kind=Notification.Kind.GOAL_REACHED)
    assert note.params == {
        "score": after,
        "target": before + 1,
        "benefit_id": None,
        "title_zh": "",
        "title_en": "",
    }
    assert notification_url(note) == reverse("benefits:goal")
    assert str(before + 1) in notification_text(note)
    assert Goal.objects.get(user=scored).reached_at is not None
    assert _api(scored).get(URL).json()["reached"] is True


def test_a_score_falling_below_opens_the_goal_again(owner, model_version):
    goal = Goal.objects.create(user=owner, target_score=650, reached_at=timezone.now())
    goals_follow_scores(scores=[(owner.pk, 600, {})], at=timezone.now())
    goal.refresh_from_db()
    assert goal.reached_at is None
    assert goals_follow_scores(scores=[(owner.pk, 655, {})], at=timezone.now()) == 1


def test_a_goal_met_already_when_set_announces_nothing_later(scored):
    _api(scored).put(URL, {"score": 350}, format="json")
    assert _api(scored).get(URL).json()["reached"] is True
    score_recompute(user=scored, trigger="test")
    assert not Notification.objects.filter(kind=Notification.Kind.GOAL_REACHED).exists()


def test_the_follow_up_takes_the_same_queries_for_any_number_of_users(partner, model_version):
    benefit = make_benefit(partner, 600)

    def follow(users) -> int:
        for n, user in enumerate(users):
            if n % 2:
                Goal.objects.create(user=user, target_score=600 + n)
            else:
                Goal.objects.create(user=user, benefit=benefit)
        with CaptureQueriesContext(connection) as queries:
            told = goals_follow_scores(
                scores=[(user.pk, 650, {}) for user in users], at=timezone.now()
            )
        assert told == len(users)
        return len(queries)

    few = follow([make_user(f"few{n}") for n in range(2)])
    many = follow([make_user(f"many{n}") for n in range(12)])
    assert few == many


def test_the_goal_is_in_my_data_export(scored):
    _api(scored).put(URL, {"score": 777, "levers": ["complete_profile"]}, format="json")
    exported = account_export(user=scored)["goal"]
    assert exported["target_score"] == 777
    assert exported["levers"] == ["complete_profile"]


def test_the_page_sets_a_goal_and_shows_the_plan(scored):
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(scored)
    answer = page.post(
        reverse("benefits:goal"), {"target_score": "910", "levers": ["card_utilisation"]}
    )
    assert answer.status_code == 302
    html = page.get(reverse("benefits:goal")).content.decode()
    assert "Expected score by month" in html
    assert "An estimate from the current model" in html
    assert "When late records stop counting" in html


def test_the_page_refuses_a_goal_without_a_target(scored):
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(scored)
    answer = page.post(reverse("benefits:goal"), {"levers": ["card_utilisation"]})
    assert answer.status_code == 200
    assert "Choose either a benefit or a score" in answer.content.decode()
    assert not Goal.objects.exists()


def test_the_score_home_links_to_the_goal_page(scored):
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(scored)
    assert reverse("benefits:goal") in page.get("/").content.decode()
