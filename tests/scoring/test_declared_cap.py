"""Self-declared answers move the score by at most DECLARED_POINTS_CAP points; verified
answers count fully; every path that scores a person counts them the same way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.services import profile_update
from scoring.explain.breakdown import snapshot_breakdown
from scoring.ml.declared import DECLARED_POINTS_CAP, points_capped
from scoring.models import ScoreSnapshot
from scoring.selectors import feature_inputs_load
from scoring.services.recompute import recompute_chunk_process, recompute_run_create
from scoring.services.scores import score_recompute, score_what_if
from tests.dates import today
from tests.factories import grant, make_user, mark_verified, verify_section

pytestmark = pytest.mark.django_db

EVERYTHING_BEST = {
    "education": {"education_level": "doctorate", "school": "北京大学", "graduation_year": 2015},
    "occupation": {"occupation": "civil_servant", "employer": "示例局"},
    "vehicle": {"vehicle_owned": True, "vehicle_value": "gt300k"},
    "property": {"property_owned": True, "property_mortgaged": False},
    "provident_fund": {"provident_fund_months": 240},
    "income": {"income_band": "gt50k"},
    "address": {"address": "北京市朝阳区示例路 1 号", "address_years": 20},
    "phone": {"phone": "13800000000"},
}


def _frame(rows: list[list[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["a", "b", "c"], dtype=float)


def test_gains_beyond_the_cap_are_scaled_to_exactly_the_cap_in_whole_points():
    verified = _frame([[10, 0, -5], [10, 0, -5]])
    points = _frame([[40, 25, 1], [15, 5, -5]])  # +61 declared, then +10

    capped = points_capped(points, verified)

    assert capped.sum(axis=1).tolist() == [5 + DECLARED_POINTS_CAP, 15]
    assert (capped.to_numpy() == np.round(capped.to_numpy())).all()
    assert capped.iloc[1].tolist() == [15, 5, -5]  # under the cap: unchanged


def test_losses_are_capped_too_and_no_verification_means_no_cap():
    verified = _frame([[50, 50, 50]])
    points = _frame([[0, 0, 40]])  # -110 declared

    assert points_capped(points, verified).sum(axis=1).tolist() == [150 - DECLARED_POINTS_CAP]
    assert points_capped(points, None) is points


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-80, 80), st.integers(-80, 80)), min_size=1, max_size=8))
def test_declared_answers_never_move_the_points_more_than_the_cap(pairs):
    verified = pd.DataFrame([[v for v, _d in pairs]], dtype=float)
    points = pd.DataFrame([[v + d for v, d in pairs]], dtype=float)

    capped = points_capped(points, verified).to_numpy()
    moved = capped - verified.to_numpy()

    assert moved[moved > 0].sum() <= DECLARED_POINTS_CAP
    assert -moved[moved < 0].sum() <= DECLARED_POINTS_CAP
    assert (np.sign(moved) * np.sign(points.to_numpy() - verified.to_numpy()) >= 0).all()
    assert (capped == np.round(capped)).all()


@pytest.fixture
def newcomer(active_model):
    """A new person with a consent and nothing else: a thin file."""
    user = make_user("newcomer")
    grant(user)
    return user


def test_declaring_the_best_answers_moves_a_new_person_at_most_the_cap(newcomer):
    before = score_recompute(user=newcomer, trigger="test")

    profile_update(user=newcomer, sections=EVERYTHING_BEST)
    after = score_recompute(user=newcomer, trigger="test")

    assert 0 < after.score - before.score <= DECLARED_POINTS_CAP
    # The reasons still add up to the score, exactly.
    assert sum(snapshot_breakdown(after).points.values()) == sum(
        snapshot_breakdown(before).points.values()
    ) + (after.score - before.score)


def test_a_verified_answer_counts_fully(newcomer, trained):
    profile_update(user=newcomer, sections=EVERYTHING_BEST)
    declared = score_recompute(user=newcomer, trigger="test")

    verify_section(newcomer, "provident_fund")
    verified = score_recompute(user=newcomer, trigger="test")

    full = trained.scorecard.points(pd.DataFrame([snapshot_breakdown(verified).values]))
    assert (
        snapshot_breakdown(verified).points["cp_provident_fund_months"]
        == full["cp_provident_fund_months"].iloc[0]
    )
    assert (
        snapshot_breakdown(declared).points["cp_provident_fund_months"]
        < full["cp_provident_fund_months"].iloc[0]
    )
    assert verified.score > declared.score


def test_verifying_everything_lifts_the_cap_for_those_answers(newcomer):
    profile_update(user=newcomer, sections=EVERYTHING_BEST)
    capped = score_recompute(user=newcomer, trigger="test")
    mark_verified(newcomer, *{f for answers in EVERYTHING_BEST.values() for f in answers})

    uncapped = score_recompute(user=newcomer, trigger="test")

    assert uncapped.score - capped.score > 0
    assert snapshot_breakdown(uncapped).values == snapshot_breakdown(capped).values


def test_the_nightly_chunk_and_what_if_give_the_per_user_score(newcomer):
    profile_update(user=newcomer, sections=EVERYTHING_BEST)
    verify_section(newcomer, "education")
    mine = score_recompute(user=newcomer, trigger="test")

    run, chunk_ids = recompute_run_create(chunk_size=1000)
    for chunk_id in chunk_ids:
        recompute_chunk_process(chunk_id=chunk_id)
    what_if = score_what_if(user=newcomer, changes={"complete_profile": False})

    # The run found the same score and points (a change would have written a snapshot).
    run.refresh_from_db()
    assert run.users_done >= 1
    assert not ScoreSnapshot.objects.filter(run=run, user=newcomer).exists()
    assert ScoreSnapshot.objects.filter(user=newcomer).latest().pk == mine.pk
    assert mine.score == what_if["current"] == what_if["score"]


def test_what_if_counts_a_declared_change_within_the_cap(newcomer):
    profile_update(user=newcomer, sections=EVERYTHING_BEST)
    mark_verified(newcomer, "education_level", "school", "graduation_year")
    before = score_recompute(user=newcomer, trigger="test")

    # Already at the cap: another declared answer cannot add points.
    what_if = score_what_if(user=newcomer, changes={"years_at_address": 50})

    assert what_if["current"] == before.score
    assert what_if["delta"] <= 0 or what_if["score"] - before.score <= DECLARED_POINTS_CAP


def test_the_people_table_says_which_answers_are_declared(newcomer):
    profile_update(user=newcomer, sections={"income": {"income_band": "gt50k"}})
    inputs = feature_inputs_load(user_ids=[newcomer.pk], as_of=today())

    assert inputs.people.loc[newcomer.pk, "declared"] == frozenset({"income_band"})
    assert inputs.people.loc[newcomer.pk, "completion_verified"] == 0
