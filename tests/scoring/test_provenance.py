"""The profile's provenance panel: each answer with its source and date, what each
section does to the score now, deleting a section (the score is recomputed without it),
and the optional data categories that can be turned off."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Profile
from scoring.explain.breakdown import snapshot_breakdown
from scoring.models import PendingRecompute
from scoring.services.scores import score_recompute
from tests.factories import (
    grant,
    make_id_number,
    make_user,
    set_profile,
    solid_file,
    verify_identity,
)

pytestmark = pytest.mark.django_db
OVERVIEW = "/accounts/profile/"


@pytest.fixture
def person(active_model):
    user = make_user("sourced")
    verify_identity(user, make_id_number(sequence="601"))
    grant(user, "scoring", "social_connections")
    solid_file(user)
    set_profile(
        user,
        occupation="employee",
        employer="示例公司",
        work_email="wei@example-corp.cn",
        work_email_verified_at=timezone.now(),
        phone="13800000000",
        field_marks={
            "income_band": {"mark": "self_declared", "at": "2026-11-01T10:00:00+08:00"},
            "work_email": {"mark": "verified", "at": "2026-11-02T10:00:00+08:00"},
        },
    )
    snapshot = score_recompute(user=user, trigger="test")
    PendingRecompute.objects.filter(user=user).delete()  # the grants' recompute ran
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return user, snapshot, client


def test_each_answer_shows_its_source_date_and_points(person):
    _user, snapshot, client = person
    page = client.get(OVERVIEW).content.decode()
    assert "Where my data comes from" in page
    assert "Monthly income" in page or "income" in page
    assert "Self-declared · 2026-11-01" in page
    assert "Verified · 2026-11-02" in page
    assert "verified with a code sent to the address" in page
    assert "Not used by the score" in page  # the phone
    impact = next(
        r["impact"]
        for r in snapshot_breakdown(snapshot).reasons
        if r["feature"] == "cp_income_rank"
    )
    expected = round(impact)
    sign = "+" if expected > 0 else "\u2212" if expected < 0 else "\u00b1"
    assert f"{sign}{abs(expected)}</span>" in page
    assert "verified with your resident ID number" in page
    assert "********" in page
    assert "Stop counting" in page  # social connections are counted


def test_deleting_a_section_clears_it_and_recomputes(
    person, recompute_calls, django_capture_on_commit_callbacks
):
    user, _snapshot, client = person
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/profile/income/clear/", follow=True)
    assert "Deleted: Income" in response.content.decode()
    profile = Profile.objects.get(user=user)
    assert profile.income_band == ""
    assert "income_band" not in profile.field_marks
    assert recompute_calls == [(user.pk, "profile:income")]


def test_deleting_the_work_section_drops_the_verification(person, recompute_calls):
    user, _snapshot, client = person
    client.post("/accounts/profile/occupation/clear/")
    profile = Profile.objects.get(user=user)
    assert profile.work_email == ""
    assert profile.work_email_verified_at is None
    assert profile.employer == ""


def test_deleting_needs_a_post_a_known_section_and_a_login(person):
    _user, _snapshot, client = person
    assert client.get("/accounts/profile/income/clear/").status_code == 405
    assert client.post("/accounts/profile/nonsense/clear/").status_code == 404
    assert Client().post("/accounts/profile/income/clear/").status_code == 302


def test_deleting_an_empty_section_changes_nothing(person, recompute_calls):
    _user, _snapshot, client = person
    client.post("/accounts/profile/vehicle/clear/")
    assert recompute_calls == []


def test_turning_off_social_connections_from_the_panel(
    person, recompute_calls, django_capture_on_commit_callbacks
):
    user, _snapshot, client = person
    grant_id = user.consent_grants.get(purpose="social_connections").pk
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/accounts/consents/{grant_id}/revoke/")
    page = client.get(OVERVIEW).content.decode()
    assert "Not counted: change in Consents" in page
    assert any(trigger.startswith("consent_revoked") for _uid, trigger in recompute_calls)


def test_no_points_are_shown_without_the_scoring_consent(person):
    user, _snapshot, client = person
    grant_id = user.consent_grants.get(purpose="scoring").pk
    client.post(f"/accounts/consents/{grant_id}/revoke/")
    page = client.get(OVERVIEW).content.decode()
    assert 'class="points' not in page
    assert "Self-declared" in page


def test_an_empty_profile_says_so(db):
    user = make_user("blank")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    set_profile(user)
    assert "You have not entered anything" in client.get(OVERVIEW).content.decode()
