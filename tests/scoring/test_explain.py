"""Why a score changed: whole points by item and dimension that add up to the change
exactly, the events behind it, on the history page (tap a point) and in the API."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from scoring.explain.breakdown import snapshot_breakdown
from scoring.explain.changes import LIMITS_PART, MODEL_PART, _whole_points, changes_explain
from scoring.models import ScoreSnapshot
from scoring.services.scores import score_recompute
from tests.dates import days_ago
from tests.factories import (
    SOLID_FILE_ANSWERS,
    add_account,
    add_repayment,
    grant,
    make_user,
    mark_verified,
    past_snapshot,
    set_profile,
    snapshot_arrays,
    solid_file,
    store_model,
)

pytestmark = pytest.mark.django_db


@given(
    st.lists(st.floats(min_value=-80, max_value=80, allow_nan=False), min_size=1, max_size=25),
    st.sampled_from([-1, 0, 1]),
)
def test_whole_points_add_up_to_the_target_and_stay_within_a_point(values, shift):
    raw = {f"f{i}": v for i, v in enumerate(values)}
    target = round(sum(values)) + shift
    if not (sum(values) - 1 < target < sum(values) + 1):
        return  # a target this far is never asked for
    whole = _whole_points(raw, target)
    assert sum(whole.values()) == target
    assert all(abs(whole[k] - raw[k]) < 1 + 1e-9 for k in raw)


@pytest.fixture
def person(active_model):
    user = make_user("explained")
    grant(user)
    loan = solid_file(user)
    first = score_recompute(user=user, trigger="test")
    return user, loan, first


def _newest_first(user) -> list[ScoreSnapshot]:
    return list(ScoreSnapshot.objects.filter(user=user).order_by("-computed_at", "-id"))


def test_a_late_repayment_is_explained_in_points_that_add_up(person):
    user, loan, first = person
    account = add_account(user, opened_on=days_ago(300))
    add_repayment(account, due=days_ago(0), days_overdue=0, paid=False)
    add_repayment(loan, due=days_ago(46), days_overdue=45)  # paid yesterday
    ScoreSnapshot.objects.filter(pk=first.pk).update(
        computed_at=timezone.now() - datetime.timedelta(days=3)
    )
    second = score_recompute(user=user, trigger="import:repayment")

    with translation.override("en"):
        change = changes_explain(_newest_first(user))[second.pk]

    assert change.total == second.score - first.score
    assert change.total < 0
    assert sum(part.points for part in change.parts) == change.total
    assert sum(change.dimensions.values()) == change.total
    assert change.dimensions["credit_history"] < 0
    assert all(part.dimension == "credit_history" for part in change.parts)
    texts = " ".join(event.text for event in change.events)
    assert "paid 45 days late" in texts
    assert "is unpaid" in texts
    assert "New data from sources" in texts


def test_a_profile_change_is_explained_in_identity_and_capacity(person):
    user, _loan, _first = person
    # Verified answers count fully; declared ones share a cap (test_declared_cap.py).
    mark_verified(user, *SOLID_FILE_ANSWERS)
    score_recompute(user=user, trigger="test")
    ScoreSnapshot.objects.filter(user=user).update(
        computed_at=timezone.now() - datetime.timedelta(days=1)
    )
    set_profile(user, provident_fund_months=120, income_band="20k_plus")
    mark_verified(user, "provident_fund_months", "income_band")
    second = score_recompute(user=user, trigger="profile:income")

    change = changes_explain(_newest_first(user))[second.pk]

    assert change.total > 0
    assert sum(part.points for part in change.parts) == change.total
    assert change.dimensions["capacity"] == change.total
    assert {part.key for part in change.parts} <= {"cp_income_rank", "cp_provident_fund_months"}


def test_a_new_model_version_shows_its_base_points(person, trained_plus_ten):
    user, _loan, _first = person
    store_model(trained_plus_ten)  # the same card with 10 more base points
    second = score_recompute(user=user, trigger="nightly_run")

    with translation.override("en"):
        change = changes_explain(_newest_first(user))[second.pk]

    assert change.total == 10
    assert [(part.key, part.points) for part in change.parts] == [(MODEL_PART, 10)]
    assert change.model_changed
    assert any("new model version" in event.text for event in change.events)


def test_the_limits_take_what_is_beyond_950(person):
    user, _loan, first = person
    second = score_recompute(user=user, trigger="test")
    contributions = dict(snapshot_breakdown(second).points)
    name = next(iter(contributions))
    contributions[name] += 2000  # would be far above 950
    arrays = snapshot_arrays(second.model_version, contributions, snapshot_breakdown(second).values)
    ScoreSnapshot.objects.filter(pk=second.pk).update(**arrays, score=950)
    second.refresh_from_db()

    change = changes_explain([second, first])[second.pk]

    assert change.total == 950 - first.score
    assert sum(part.points for part in change.parts) == change.total
    limits = next(part for part in change.parts if part.key == LIMITS_PART)
    assert limits.points < 0


def test_history_without_points_gives_only_the_total(person):
    user, _loan, first = person
    old = past_snapshot(
        user,
        600,
        model_version=first.model_version,
        at=first.computed_at - datetime.timedelta(days=5),
    )
    change = changes_explain([first, old])[first.pk]
    assert change.total == first.score - 600
    assert not change.broken_down
    assert change.parts == []


def test_many_changes_cost_a_fixed_number_of_queries(person, django_assert_max_num_queries):
    user, _loan, first = person
    for days in range(2, 40):
        past_snapshot(
            user,
            600 + days,
            model_version=first.model_version,
            at=first.computed_at - datetime.timedelta(days=days),
        )
    few = _newest_first(user)[:3]
    many = _newest_first(user)
    with django_assert_max_num_queries(12) as small:
        changes_explain(few)
    with django_assert_max_num_queries(12) as large:
        changes_explain(many)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_history_page_explains_a_tapped_point(person):
    user, _loan, first = person
    ScoreSnapshot.objects.filter(pk=first.pk).update(
        computed_at=timezone.now() - datetime.timedelta(days=1)
    )
    set_profile(user, provident_fund_months=120)
    second = score_recompute(user=user, trigger="profile:provident_fund")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)

    page = client.get("/score/history/").content.decode()
    assert f'href="?at={second.pk}#change"' in page  # points and rows link to their change
    assert "Why it changed on" in page
    assert "Housing provident fund" in page
    assert "add up to the change exactly" in page

    first_page = client.get(f"/score/history/?at={first.pk}").content.decode()
    assert "This is your first score" in first_page
    # Anything else falls back to the latest.
    for junk in ("abc", "-1", "999999", "1 OR 1=1"):
        response = client.get("/score/history/", {"at": junk})
        assert response.status_code == 200
        assert "Why it changed on" in response.content.decode()


def test_history_api_gives_each_change_with_its_parts_and_events(person):
    user, _loan, first = person
    ScoreSnapshot.objects.filter(pk=first.pk).update(
        computed_at=timezone.now() - datetime.timedelta(days=1)
    )
    set_profile(user, provident_fund_months=120)
    second = score_recompute(user=user, trigger="profile:provident_fund")
    api = APIClient()
    api.force_authenticate(user)

    body = api.get("/api/v1/me/score/history/", HTTP_ACCEPT_LANGUAGE="en").json()

    assert [item["id"] for item in body] == [second.pk, first.pk]
    latest, oldest = body
    assert oldest["change"] is None
    change = latest["change"]
    assert change["total"] == second.score - first.score
    assert sum(part["points"] for part in change["parts"]) == change["total"]
    assert sum(change["dimensions"].values()) == change["total"]
    assert change["parts"][0]["item"] == "cp_provident_fund_months"
    assert change["parts"][0]["dimension"] == "capacity"
    assert any("Profile updated" in event["text"] for event in change["events"])
    assert latest["trigger_text"] == "Profile updated"


def test_another_users_history_is_never_explained(person):
    _user, _loan, first = person
    stranger = make_user("stranger")
    grant(stranger)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(stranger)
    page = client.get(f"/score/history/?at={first.pk}").content.decode()
    assert str(first.score) not in page or "No score has been computed" in page
    assert "Why it changed on" not in page
