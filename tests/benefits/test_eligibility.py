"""Eligibility as a pure function: thresholds, sub-scores, age, regions, the court list,
and the chunk form agreeing with the single-person form."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benefits.eligibility import (
    BLOCK_AGE,
    BLOCK_COURT_LIST,
    BLOCK_NO_SCORE,
    BLOCK_REGION,
    BLOCK_SCORE,
    BLOCK_SUBSCORE,
    Person,
    eligibility_of,
    region_matches,
    unlocked_pairs,
)
from benefits.models import Benefit
from scoring.ml.features import DIMENSIONS
from scoring.ml.scorecard import SCORE_MAX, SCORE_MIN
from tests.dates import FIXED_TODAY

TODAY = FIXED_TODAY
BORN_1990 = datetime.date(1990, 3, 7)


def benefit(min_score: int = 600, pk: int = 1, **rules) -> Benefit:
    """An unsaved benefit: eligibility reads only its rules and its id."""
    return Benefit(pk=pk, min_score=min_score, **rules)


def person(score: int | None = 650, **facts) -> Person:
    values = {"user_id": 1, "birth_date": BORN_1990, "region_code": "110105"}
    values.update(facts)
    return Person(score=score, **values)


def judge(who: Person, what: Benefit, today: datetime.date = TODAY):
    return eligibility_of(who, what, today=today)


# --- The score threshold ------------------------------------------------------------------------


def test_a_score_exactly_at_the_minimum_unlocks():
    result = judge(person(600), benefit(600))

    assert result.unlocked is True
    assert result.points_away == 0
    assert result.progress == 100
    assert result.blocked_by == ()


def test_one_point_below_the_minimum_is_locked_one_point_away():
    result = judge(person(599), benefit(600))

    assert result.unlocked is False
    assert result.points_away == 1
    assert result.blocked_by == (BLOCK_SCORE,)
    assert result.progress == int(100 * (599 - SCORE_MIN) / (600 - SCORE_MIN))


def test_progress_runs_from_the_bottom_of_the_scale_to_the_minimum():
    assert judge(person(SCORE_MIN), benefit(650)).progress == 0
    assert judge(person(500), benefit(650)).progress == 50
    assert judge(person(950), benefit(650)).progress == 100


def test_a_benefit_at_the_bottom_of_the_scale_is_unlocked_by_any_score():
    result = judge(person(SCORE_MIN), benefit(SCORE_MIN))

    assert result.unlocked is True
    assert result.progress == 100


def test_without_a_score_nothing_unlocks_and_points_away_is_unknown():
    result = judge(person(None), benefit(350))

    assert result.unlocked is False
    assert result.points_away is None
    assert result.progress == 0
    assert result.blocked_by == (BLOCK_NO_SCORE,)


# --- Sub-scores -----------------------------------------------------------------------------------


def test_every_sub_score_at_its_minimum_unlocks():
    rules = {"capacity": 40, "credit_history": 55}
    who = person(700, dimensions={"capacity": 40, "credit_history": 55, "behaviour": 10})

    assert judge(who, benefit(600, min_subscores=rules)).unlocked is True


def test_one_sub_score_a_point_short_locks_and_names_that_dimension():
    rules = {"capacity": 40, "credit_history": 55}
    who = person(700, dimensions={"capacity": 39, "credit_history": 90})

    result = judge(who, benefit(600, min_subscores=rules))

    assert result.unlocked is False
    assert result.points_away == 0
    assert result.blocked_by == (BLOCK_SUBSCORE,)
    assert result.subscores_short == ("capacity",)


def test_a_missing_sub_score_counts_as_zero():
    result = judge(person(700, dimensions={}), benefit(600, min_subscores={"connections": 1}))

    assert result.subscores_short == ("connections",)
    assert judge(person(700), benefit(600, min_subscores={"connections": 0})).unlocked


def test_score_and_sub_score_both_short_are_both_reported():
    result = judge(
        person(550, dimensions={"capacity": 10}), benefit(600, min_subscores={"capacity": 40})
    )

    assert result.blocked_by == (BLOCK_SCORE, BLOCK_SUBSCORE)
    assert result.points_away == 50


# --- Minimum age ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "today", "unlocked"),
    [
        (datetime.date(2008, 11, 21), datetime.date(2026, 11, 21), True),  # 18 today
        (datetime.date(2008, 11, 22), datetime.date(2026, 11, 21), False),  # 18 tomorrow
        (datetime.date(2008, 2, 29), datetime.date(2026, 2, 28), False),  # leapling, not yet
        (datetime.date(2008, 2, 29), datetime.date(2026, 3, 1), True),  # counts from 1 March
        (datetime.date(2008, 2, 29), datetime.date(2028, 2, 29), True),  # 20 on the day itself
    ],
)
def test_minimum_age_counts_whole_years_and_29_february_from_1_march(born, today, unlocked):
    result = judge(person(700, birth_date=born), benefit(600, min_age=18), today=today)

    assert result.unlocked is unlocked
    assert (BLOCK_AGE in result.blocked_by) is not unlocked


def test_minimum_age_without_a_verified_birth_date_is_locked():
    result = judge(person(700, birth_date=None, region_code=""), benefit(600, min_age=18))

    assert result.blocked_by == (BLOCK_AGE,)


def test_no_minimum_age_needs_no_birth_date():
    assert judge(person(700, birth_date=None), benefit(600)).unlocked is True


# --- Regions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regions", "unlocked"),
    [
        ([], True),  # everywhere
        (["11"], True),  # the province
        (["1101"], True),  # the city
        (["110105"], True),  # the county
        (["31", "110105"], True),  # any of several
        (["31"], False),
        (["1102"], False),
        (["110106"], False),
        (["21"], False),  # a prefix, never a substring: 110105 is not in 21…
    ],
)
def test_region_codes_match_by_province_city_or_county_prefix(regions, unlocked):
    result = judge(person(700, region_code="110105"), benefit(600, regions=regions))

    assert result.unlocked is unlocked
    assert (BLOCK_REGION in result.blocked_by) is not unlocked


def test_a_regional_benefit_is_locked_without_a_verified_region():
    assert judge(person(700, region_code=""), benefit(600, regions=["11"])).blocked_by == (
        BLOCK_REGION,
    )
    assert region_matches("", []) is True


# --- The court list -------------------------------------------------------------------------------


def test_the_court_list_blocks_even_a_perfect_score():
    result = judge(person(SCORE_MAX, court_listed=True), benefit(SCORE_MIN))

    assert result.unlocked is False
    assert result.blocked_by == (BLOCK_COURT_LIST,)
    assert result.points_away == 0


def test_the_court_list_comes_first_among_the_reasons():
    result = judge(
        person(500, court_listed=True, birth_date=None, region_code="310101"),
        benefit(600, min_age=18, regions=["11"]),
    )

    assert result.blocked_by == (BLOCK_COURT_LIST, BLOCK_SCORE, BLOCK_AGE, BLOCK_REGION)


def test_the_chunk_form_leaves_out_the_court_listed_and_the_unscored():
    people = [
        person(700, user_id=1),
        person(700, user_id=2, court_listed=True),
        person(None, user_id=3),
        person(599, user_id=4),
    ]

    pairs = unlocked_pairs(people, [benefit(600, pk=9)], today=TODAY)

    assert pairs == {(1, 9)}


# --- Properties -----------------------------------------------------------------------------------

scores = st.integers(min_value=SCORE_MIN, max_value=SCORE_MAX)


@settings(max_examples=200, deadline=None)
@given(score=scores, minimum=scores)
def test_with_only_a_score_rule_unlocked_iff_the_score_reaches_the_minimum(score, minimum):
    result = judge(person(score), benefit(minimum))

    assert result.unlocked is (score >= minimum)
    assert result.points_away == max(0, minimum - score)
    assert 0 <= result.progress <= 100
    assert (result.progress == 100) is result.unlocked


@settings(max_examples=100, deadline=None)
@given(low=scores, high=scores, minimum=scores)
def test_progress_never_falls_as_the_score_rises(low, high, minimum):
    low, high = sorted((low, high))

    assert (
        judge(person(low), benefit(minimum)).progress
        <= judge(person(high), benefit(minimum)).progress
    )


dimension_values = st.dictionaries(
    st.sampled_from(DIMENSIONS), st.integers(min_value=0, max_value=100), max_size=5
)
people_strategy = st.builds(
    Person,
    user_id=st.integers(min_value=1, max_value=10_000),
    score=st.one_of(st.none(), scores),
    dimensions=dimension_values,
    birth_date=st.one_of(st.none(), st.dates(min_value=datetime.date(1920, 1, 1), max_value=TODAY)),
    region_code=st.sampled_from(["", "110105", "110101", "310101", "440305"]),
    court_listed=st.booleans(),
)
benefits_strategy = st.builds(
    benefit,
    min_score=scores,
    pk=st.integers(min_value=1, max_value=10_000),
    min_subscores=dimension_values,
    min_age=st.one_of(st.none(), st.integers(min_value=16, max_value=70)),
    regions=st.lists(st.sampled_from(["11", "1101", "110105", "31", "44"]), max_size=2),
)


@settings(max_examples=100, deadline=None)
@given(
    people=st.lists(people_strategy, max_size=6, unique_by=lambda p: p.user_id),
    offers=st.lists(benefits_strategy, max_size=4, unique_by=lambda b: b.pk),
)
def test_the_chunk_form_decides_exactly_as_the_single_form(people, offers):
    expected = {
        (who.user_id, what.pk) for who in people for what in offers if judge(who, what).unlocked
    }

    assert unlocked_pairs(people, offers, today=TODAY) == expected
