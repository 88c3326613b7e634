"""Scoring a user: each dimension moves the right way, reasons add up exactly to the
distance from the typical user, scores stay in 350..950, no score without consent, a
tampered model never replaces a good score, and what-if writes nothing."""

from __future__ import annotations

import copy
import datetime
import math

import numpy as np
import pandas as pd
import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.models import ConsentGrant, ConsentPurpose
from accounts.services import consent_revoke, profile_update
from scoring import selectors
from scoring.explain.breakdown import array_encode, breakdown_from, layout_of, snapshot_breakdown
from scoring.ml.artifacts import ArtifactIntegrityError, LoadedModel, artifact_sha256
from scoring.ml.bands import band_of
from scoring.ml.features import DIMENSIONS, FEATURE_NAMES
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from scoring.models import ModelVersion, Repayment, ScoreSnapshot
from scoring.selectors import model_active, model_load
from scoring.services.scores import (
    WHAT_IF_LEVERS,
    model_version_activate,
    score_recompute,
    score_what_if,
    scores_compute,
)
from sesame_portal.errors import ServiceError
from tests.dates import days_ago, month_starts, today
from tests.factories import (
    SOLID_FILE_ANSWERS,
    WEB,
    add_account,
    add_activity,
    add_bill,
    add_repayment,
    befriend,
    grant,
    make_id_number,
    make_user,
    mark_verified,
    past_snapshot,
    solid_file,
    store_model,
    verify_identity,
    verify_work_email,
)

SCORE_URL = "/api/v1/me/score/"
HISTORY_URL = "/api/v1/me/score/history/"
WHAT_IF_URL = "/api/v1/me/score/what-if/"


def typical_total(scorecard) -> float:
    return scorecard.base_points + sum(scorecard.typical_points.values())


def others_unchanged(before: ScoreSnapshot, after: ScoreSnapshot, moved: str) -> bool:
    return all(before.dimensions[d] == after.dimensions[d] for d in DIMENSIONS if d != moved)


@pytest.fixture
def scored_user(db, active_model):
    """A consenting user with an ordinary file."""
    user = make_user("scored")
    grant(user)
    solid_file(user)
    return user


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def recompute(user, trigger: str = "test") -> ScoreSnapshot:
    snapshot = score_recompute(user=user, trigger=trigger)
    assert snapshot is not None
    return snapshot


# --- Each dimension moves the right way -------------------------------------------------------


def test_clearing_late_repayments_raises_credit_history_and_the_score(scored_user):
    loan = scored_user.credit_accounts.get(kind="consumer_loan")
    late = list(loan.repayments.order_by("-due_date")[:3])
    Repayment.objects.filter(pk__in=[r.pk for r in late]).update(days_overdue=60)
    before = recompute(scored_user)

    Repayment.objects.filter(pk__in=[r.pk for r in late]).update(days_overdue=0)
    after = recompute(scored_user)

    assert after.dimensions["credit_history"] > before.dimensions["credit_history"]
    assert after.score > before.score
    assert others_unchanged(before, after, "credit_history")


def test_a_late_unpaid_instalment_lowers_credit_history_and_the_score(scored_user):
    before = recompute(scored_user)
    loan = scored_user.credit_accounts.get(kind="consumer_loan")

    add_repayment(loan, due=days_ago(35), days_overdue=35, paid=False)
    after = recompute(scored_user)

    assert after.dimensions["credit_history"] < before.dimensions["credit_history"]
    assert after.score < before.score
    assert others_unchanged(before, after, "credit_history")


def test_wildly_swinging_spending_lowers_behaviour_and_the_score(scored_user):
    before = recompute(scored_user)

    # Six more months, alternating a tiny and a huge spend: the volatility jumps.
    for i, month in enumerate(month_starts(12)[6:]):
        add_activity(scored_user, month, spend=300 if i % 2 else 20000, categories=4)
    after = recompute(scored_user)

    assert (
        snapshot_breakdown(after).values["bh_spend_volatility"]
        > snapshot_breakdown(before).values["bh_spend_volatility"]
    )
    assert after.dimensions["behaviour"] < before.dimensions["behaviour"]
    assert after.score < before.score
    assert others_unchanged(before, after, "behaviour")


def test_late_utility_bills_lower_behaviour_and_the_score(scored_user):
    grant(scored_user, ConsentPurpose.UTILITY_BILLS)
    for k in range(1, 5):
        add_bill(scored_user, due=days_ago(30 * k), paid_on=days_ago(30 * k + 2))
    before = recompute(scored_user)

    for k in range(5, 9):
        add_bill(scored_user, due=days_ago(30 * k), paid_on=days_ago(30 * k - 20))
    after = recompute(scored_user)

    assert after.dimensions["behaviour"] < before.dimensions["behaviour"]
    assert after.score < before.score
    assert others_unchanged(before, after, "behaviour")


@pytest.mark.parametrize(
    ("section", "values"),
    [
        ("provident_fund", {"provident_fund_months": 300}),
        ("income", {"income_band": "gt50k"}),
    ],
)
def test_more_capacity_raises_the_capacity_sub_score_and_the_score(scored_user, section, values):
    # Verified answers count fully; declared ones share a cap (test_declared_cap.py).
    mark_verified(scored_user, *SOLID_FILE_ANSWERS)
    before = recompute(scored_user)

    profile_update(user=scored_user, sections={section: values})
    mark_verified(scored_user, *values)  # verified answers count fully (declared: capped)
    after = recompute(scored_user)

    assert after.dimensions["capacity"] > before.dimensions["capacity"]
    assert after.score > before.score
    assert others_unchanged(before, after, "capacity")


def test_verifying_a_work_email_raises_identity_and_the_score(scored_user):
    before = recompute(scored_user)

    verify_work_email(scored_user)
    after = recompute(scored_user)

    assert snapshot_breakdown(after).values["id_work_email_verified"] == 1
    assert after.dimensions["identity"] > before.dimensions["identity"]
    assert after.score > before.score
    assert others_unchanged(before, after, "identity")


def test_verifying_the_real_name_raises_identity_and_the_score(scored_user):
    before = recompute(scored_user)

    verify_identity(scored_user, make_id_number())
    after = recompute(scored_user)

    assert after.dimensions["identity"] > before.dimensions["identity"]
    assert after.score > before.score
    assert others_unchanged(before, after, "identity")


def test_friends_with_better_scores_raise_connections_and_the_score(scored_user, active_model):
    grant(scored_user, ConsentPurpose.SOCIAL_CONNECTIONS)
    friends = [make_user(f"friend-{i}") for i in range(3)]
    hour = datetime.timedelta(hours=1)
    for friend in friends:
        befriend(scored_user, friend)
        past_snapshot(friend, 520, model_version=active_model, at=timezone.now() - 48 * hour)
    before = recompute(scored_user)

    for friend in friends:
        past_snapshot(friend, 820, model_version=active_model, at=timezone.now() - hour)
    after = recompute(scored_user)

    assert snapshot_breakdown(after).values["cn_friends_mean_score"] == 820
    assert after.dimensions["connections"] > before.dimensions["connections"]
    assert after.score > before.score
    assert others_unchanged(before, after, "connections")


def test_a_thin_file_still_gets_a_score(db, active_model):
    user = make_user("thin")
    grant(user)

    snapshot = recompute(user)

    assert SCORE_MIN <= snapshot.score <= SCORE_MAX
    assert set(snapshot.dimensions) == set(DIMENSIONS)
    assert all(0 <= v <= 100 for v in snapshot.dimensions.values())


# --- Reasons ----------------------------------------------------------------------------------


def _assert_reasons_add_up(reasons: list[dict], total: float, scorecard) -> None:
    impacts = [r["impact"] for r in reasons]
    assert sorted(r["feature"] for r in reasons) == sorted(scorecard.feature_names)
    assert impacts == sorted(impacts, reverse=True)
    distance = total - typical_total(scorecard)
    assert sum(impacts) == pytest.approx(distance, abs=0.01 * len(reasons))


def test_a_snapshots_reasons_add_up_to_its_distance_from_the_typical_user(scored_user, trained):
    loan = scored_user.credit_accounts.get(kind="consumer_loan")
    add_repayment(loan, due=days_ago(40), days_overdue=40, paid=False)
    snapshot = recompute(scored_user)
    scorecard = trained.scorecard

    assert SCORE_MIN < snapshot.score < SCORE_MAX  # not clipped: total == score
    assert snapshot.score == scorecard.base_points + sum(
        snapshot_breakdown(snapshot).points.values()
    )
    _assert_reasons_add_up(snapshot_breakdown(snapshot).reasons, snapshot.score, scorecard)
    assert any(r["impact"] > 0 for r in snapshot_breakdown(snapshot).reasons)
    assert any(r["impact"] < 0 for r in snapshot_breakdown(snapshot).reasons)


def test_reason_codes_say_whether_a_feature_helped_hurt_or_was_missing(db, active_model):
    user = make_user("thin-reasons")
    grant(user)

    snapshot = recompute(user)

    for reason in snapshot_breakdown(snapshot).reasons:
        feature, kind = reason["code"].rsplit(".", 1)
        assert feature == reason["feature"]
        value = snapshot_breakdown(snapshot).values[feature]
        if reason["impact"] > 0:
            assert kind == "up"
        elif value is None:
            assert kind == "missing"
        elif reason["impact"] < 0:
            assert kind == "down"


def test_the_api_shows_what_helped_most_then_what_hurt_most(owner, owner_api, active_model):
    grant(owner)
    solid_file(owner)
    snapshot = recompute(owner)

    body = owner_api.get(SCORE_URL).json()

    impacts = [r["impact"] for r in body["reasons"]]
    helped = [i for i in impacts if i > 0]
    hurt = [i for i in impacts if i < 0]
    assert impacts == helped + hurt  # nothing neutral, helps first
    stored = [r["impact"] for r in snapshot_breakdown(snapshot).reasons]
    assert helped == [i for i in stored if i > 0][:3]
    assert hurt == [i for i in reversed(stored) if i < 0][:3]
    assert all(r["text"] and r["code"] for r in body["reasons"])


# --- Scaling bounds and bands -----------------------------------------------------------------

EXTREMES = st.sampled_from([math.nan, -math.inf, math.inf, -1e12, 0.0, 1e12])
VALUES = st.one_of(EXTREMES, st.floats(-1e6, 1e6), st.integers(0, 700).map(float))


@st.composite
def feature_frames(draw):
    rows = draw(st.integers(1, 12))
    if draw(st.booleans()):
        data = {name: [math.nan] * rows for name in FEATURE_NAMES}
    else:
        data = {
            name: draw(st.lists(VALUES, min_size=rows, max_size=rows)) for name in FEATURE_NAMES
        }
    return pd.DataFrame(data, index=pd.RangeIndex(1, rows + 1, name="user_id"))


def loaded(scorecard) -> LoadedModel:
    return LoadedModel(
        version="test", model_version_id=1, kind="portal", scorecard=scorecard, inputs={}
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=feature_frames())
def test_any_features_give_a_score_within_350_950_and_reasons_that_add_up(trained, frame):
    scorecard = trained.scorecard

    scored = scores_compute(model=loaded(scorecard), features=frame)

    assert len(scored) == len(frame)
    assert scored.user_ids == frame.index.tolist()
    for row, dimensions in enumerate(scored.dimensions_by_row()):
        score, total = int(scored.scores[row]), float(scored.totals[row])
        assert SCORE_MIN <= score <= SCORE_MAX
        assert score == int(np.clip(round(total), SCORE_MIN, SCORE_MAX))
        assert set(dimensions) == set(DIMENSIONS)
        assert all(0 <= v <= 100 for v in dimensions.values())
        reasons = breakdown_from(
            layout=layout_of(scorecard),
            points=array_encode(scored.points[row]),
            values=array_encode(scored.values[row]),
        ).reasons
        _assert_reasons_add_up(reasons, total, scorecard)


@pytest.mark.parametrize(("points", "expected"), [(5000, SCORE_MAX), (-5000, SCORE_MIN)])
def test_points_beyond_the_range_are_held_at_its_bounds(trained, points, expected):
    scorecard = copy.deepcopy(trained.scorecard)
    scorecard.features[0].missing_points = points
    frame = pd.DataFrame({name: [math.nan] for name in FEATURE_NAMES})

    scored = scores_compute(model=loaded(scorecard), features=frame)

    assert scored.scores.tolist() == [expected]
    assert band_of(expected) == ("excellent" if expected == SCORE_MAX else "poor")


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (350, "poor"),
        (549, "poor"),
        (550, "fair"),
        (599, "fair"),
        (600, "good"),
        (649, "good"),
        (650, "very_good"),
        (699, "very_good"),
        (700, "excellent"),
        (950, "excellent"),
    ],
)
def test_bands_follow_the_contract_boundaries(score, band):
    assert band_of(score) == band


def test_the_score_page_names_the_band_in_chinese_by_default(scored_user):
    recompute(scored_user)
    client = api_for(scored_user)

    body = client.get(SCORE_URL, HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    labels = {"poor": "较差", "fair": "中等", "good": "良好", "very_good": "优秀"}
    assert body["band_label"] == {**labels, "excellent": "极好"}[body["band"]]


# --- Consent ----------------------------------------------------------------------------------


def test_without_scoring_consent_nothing_is_computed_or_stored(db, active_model):
    user = make_user("no-consent")
    solid_file(user)
    grant(user, ConsentPurpose.UTILITY_BILLS)  # another purpose does not count

    assert score_recompute(user=user, trigger="test") is None
    assert not ScoreSnapshot.objects.exists()


@pytest.mark.parametrize(
    ("method", "url"), [("get", SCORE_URL), ("get", HISTORY_URL), ("post", WHAT_IF_URL)]
)
def test_the_api_refuses_every_score_call_without_scoring_consent(
    owner, owner_api, active_model, method, url
):
    solid_file(owner)
    payload = {"changes": {"repay_overdue": True}} if method == "post" else None

    response = getattr(owner_api, method)(url, payload, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "consent_required"


def test_revoking_scoring_consent_hides_the_score_at_once_and_stops_recomputes(
    owner, owner_api, active_model
):
    grant(owner)
    solid_file(owner)
    recompute(owner)
    assert owner_api.get(SCORE_URL).status_code == 200
    scoring = ConsentGrant.objects.get(user=owner, purpose=ConsentPurpose.SCORING)

    consent_revoke(user=owner, grant_id=scoring.pk, client=WEB)

    for url in (SCORE_URL, HISTORY_URL):
        response = owner_api.get(url)
        assert response.status_code == 403
        assert response.json()["code"] == "consent_required"
    assert score_recompute(user=owner, trigger="test") is None
    assert ScoreSnapshot.objects.filter(user=owner).count() == 1


def test_an_expired_scoring_consent_counts_as_none(owner, owner_api, active_model):
    grant(owner)
    recompute(owner)
    ConsentGrant.objects.filter(user=owner).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    assert owner_api.get(SCORE_URL).status_code == 403
    assert score_recompute(user=owner, trigger="test") is None


def test_before_the_first_computation_the_score_is_not_found(owner, owner_api, active_model):
    grant(owner)

    response = owner_api.get(SCORE_URL)

    assert response.status_code == 404
    assert response.json()["code"] == "not_computed"
    assert owner_api.get(HISTORY_URL).json() == []


# --- Snapshots and history --------------------------------------------------------------------


def test_a_snapshot_records_model_version_trigger_and_time_and_the_api_shows_them(
    owner, owner_api, active_model
):
    grant(owner)
    solid_file(owner)
    started = timezone.now()

    snapshot = recompute(owner, trigger="profile:income")
    body = owner_api.get(SCORE_URL).json()

    assert snapshot.model_version == active_model
    assert snapshot.trigger == "profile:income"
    assert started <= snapshot.computed_at <= timezone.now()
    assert set(body) >= {"score", "band", "computed_at", "model_version", "dimensions", "reasons"}
    assert body["score"] == snapshot.score
    assert body["band"] == snapshot.band == band_of(snapshot.score)
    assert body["model_version"] == active_model.version
    assert body["trigger"] == "profile:income"
    assert set(body["dimensions"]) == set(DIMENSIONS)
    assert all(set(r) == {"code", "text", "impact"} for r in body["reasons"])


def test_history_keeps_every_snapshot_newest_first(owner, owner_api, active_model):
    grant(owner)
    solid_file(owner)
    for trigger in ("first", "second", "third"):
        recompute(owner, trigger=trigger)

    history = owner_api.get(HISTORY_URL).json()

    assert [h["trigger"] for h in history] == ["third", "second", "first"]
    assert all(h["model_version"] == active_model.version for h in history)
    assert ScoreSnapshot.objects.filter(user=owner).count() == 3


def test_users_see_only_their_own_score(owner, other_user, owner_api, other_api, active_model):
    grant(owner)
    solid_file(owner)
    mine = recompute(owner, trigger="owner")
    grant(other_user)

    assert other_api.get(SCORE_URL).json()["code"] == "not_computed"
    assert other_api.get(HISTORY_URL).json() == []

    theirs = recompute(other_user, trigger="other")

    assert other_api.get(SCORE_URL).json()["trigger"] == "other"
    assert [h["trigger"] for h in other_api.get(HISTORY_URL).json()] == ["other"]
    body = owner_api.get(SCORE_URL).json()
    assert (body["trigger"], body["score"]) == ("owner", mine.score)
    assert [h["trigger"] for h in owner_api.get(HISTORY_URL).json()] == ["owner"]
    assert theirs.user == other_user


def test_the_score_api_needs_a_login(db, api_client):
    for url in (SCORE_URL, HISTORY_URL):
        response = api_client.get(url)
        assert response.status_code in (401, 403)
        assert response.json()["code"] == "not_authenticated"


# --- Artifact integrity and activation --------------------------------------------------------


def test_a_changed_artifact_is_refused_on_load(active_model):
    original = bytes(active_model.artifact)
    changed = original.replace(b'"base_points": ', b'"base_points": 1', 1)
    assert changed != original
    ModelVersion.objects.filter(pk=active_model.pk).update(artifact=changed)
    selectors._cache.clear()  # a process that has not loaded this version yet

    with pytest.raises(ArtifactIntegrityError, match="does not match"):
        model_load(ModelVersion.objects.get(pk=active_model.pk))


def test_a_changed_recorded_hash_is_refused_on_load(active_model):
    ModelVersion.objects.filter(pk=active_model.pk).update(sha256="0" * 64)

    with pytest.raises(ArtifactIntegrityError):
        model_load(ModelVersion.objects.get(pk=active_model.pk))


def test_an_unreadable_artifact_with_a_matching_hash_is_refused(active_model):
    junk = b'{"format": "pickle", "payload": "gASV"}'
    ModelVersion.objects.filter(pk=active_model.pk).update(
        artifact=junk, sha256=artifact_sha256(junk)
    )

    with pytest.raises(ArtifactIntegrityError, match="unreadable"):
        model_load(ModelVersion.objects.get(pk=active_model.pk))


def test_a_tampered_model_stores_nothing_and_the_last_good_score_stays(
    owner, owner_api, active_model
):
    grant(owner)
    solid_file(owner)
    good = recompute(owner)
    ModelVersion.objects.filter(pk=active_model.pk).update(sha256="f" * 64)

    add_repayment(
        owner.credit_accounts.get(kind="consumer_loan"),
        due=days_ago(40),
        days_overdue=40,
        paid=False,
    )
    assert score_recompute(user=owner, trigger="after-tamper") is None

    assert list(ScoreSnapshot.objects.filter(user=owner)) == [good]
    body = owner_api.get(SCORE_URL).json()
    assert (body["score"], body["model_version"]) == (good.score, active_model.version)
    response = owner_api.post(WHAT_IF_URL, {"changes": {"repay_overdue": True}}, format="json")
    assert response.status_code == 503


def test_a_tampered_version_cannot_be_activated_and_the_active_one_stays(
    active_model, trained_plus_ten
):
    candidate = store_model(trained_plus_ten, activate=False)
    ModelVersion.objects.filter(pk=candidate.pk).update(sha256="0" * 64)
    candidate.refresh_from_db()

    with pytest.raises(ArtifactIntegrityError):
        model_version_activate(model_version=candidate)

    assert model_active() == active_model


def test_activation_keeps_one_active_version_and_the_previous_one_for_rollback(
    scored_user, active_model, trained_plus_ten
):
    first = recompute(scored_user)
    newer = store_model(trained_plus_ten)

    assert list(ModelVersion.objects.filter(kind="portal", is_active=True)) == [newer]
    assert ModelVersion.objects.filter(pk=active_model.pk, is_active=False).exists()
    second = recompute(scored_user)
    assert (second.model_version, second.score) == (newer, first.score + 10)

    model_version_activate(model_version=active_model)  # roll back

    assert list(ModelVersion.objects.filter(kind="portal", is_active=True)) == [active_model]
    third = recompute(scored_user)
    assert (third.model_version, third.score) == (active_model, first.score)
    assert ScoreSnapshot.objects.get(pk=second.pk).model_version == newer  # history intact


# --- What-if ----------------------------------------------------------------------------------


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for label in ("accounts", "scoring", "benefits")
        for model in apps.get_app_config(label).get_models()
    }


@pytest.fixture
def overdue_user(scored_user):
    loan = scored_user.credit_accounts.get(kind="consumer_loan")
    add_repayment(loan, due=days_ago(20), days_overdue=20, paid=False)
    recompute(scored_user)
    return scored_user


def test_what_if_returns_the_new_score_and_its_delta_and_saves_nothing(overdue_user):
    client = api_for(overdue_user)
    counts = _row_counts()
    latest = ScoreSnapshot.objects.latest()

    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            WHAT_IF_URL,
            {"changes": {"repay_overdue": True, "provident_fund_months": 120}},
            format="json",
        )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"score", "delta", "current"}
    assert body["delta"] == body["score"] - body["current"] > 0
    assert body["current"] == latest.score
    assert _row_counts() == counts
    assert ScoreSnapshot.objects.latest() == latest
    verbs = {q["sql"].split(None, 1)[0].upper() for q in captured}
    assert not verbs & {"INSERT", "UPDATE", "DELETE", "REPLACE"}


def test_what_if_repaying_the_overdue_instalment_matches_the_score_after_repaying(overdue_user):
    predicted = score_what_if(user=overdue_user, changes={"repay_overdue": True})

    Repayment.objects.filter(user=overdue_user, paid_date__isnull=True).update(paid_date=today())
    actual = recompute(overdue_user)

    assert predicted["score"] == actual.score
    assert predicted["delta"] > 0


def test_every_documented_lever_is_accepted(overdue_user):
    changes = {
        "repay_overdue": True,
        "provident_fund_months": 60,
        "work_email_verified": True,
        "income_band": "12k_20k",
        "education_level": "bachelor",
        "card_utilisation": 0.1,
        "years_at_address": 10,
        "bills_paid_on_time": True,
        "complete_profile": True,
    }
    assert set(changes) == set(WHAT_IF_LEVERS)

    result = score_what_if(user=overdue_user, changes=changes)

    assert SCORE_MIN <= result["score"] <= SCORE_MAX
    assert result["delta"] > 0


def test_an_unknown_lever_is_refused(overdue_user):
    client = api_for(overdue_user)

    response = client.post(WHAT_IF_URL, {"changes": {"become_rich": True}}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_change"


@pytest.mark.parametrize(
    "changes",
    [
        {"repay_overdue": "yes"},
        {"provident_fund_months": "36"},
        {"provident_fund_months": -1},
        {"provident_fund_months": True},
        {"income_band": "millions"},
        {"education_level": 5},
        {"card_utilisation": 5},
        {"years_at_address": None},
        {"work_email_verified": 1},
        {},
        [],
        "repay_overdue",
    ],
)
def test_what_if_values_of_the_wrong_type_are_refused(overdue_user, changes):
    client = api_for(overdue_user)
    counts = _row_counts()

    response = client.post(WHAT_IF_URL, {"changes": changes}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert _row_counts() == counts


def test_a_wrong_card_utilisation_is_refused_even_without_a_card(db, active_model):
    user = make_user("no-card")
    grant(user)

    with pytest.raises(ServiceError, match="card_utilisation") as error:
        score_what_if(user=user, changes={"card_utilisation": "all of it"})
    assert error.value.code == "invalid"


def test_what_if_without_an_active_model_is_unavailable(owner, owner_api):
    grant(owner)

    response = owner_api.post(WHAT_IF_URL, {"changes": {"repay_overdue": True}}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "no_model"


def test_a_user_with_no_card_and_no_debt_gets_delta_zero_for_levers_that_do_not_apply(
    db, active_model
):
    user = make_user("nothing-to-repay")
    grant(user)
    add_account(user, opened_on=days_ago(400))

    result = score_what_if(user=user, changes={"repay_overdue": True, "card_utilisation": 0.0})

    assert result["delta"] == 0
