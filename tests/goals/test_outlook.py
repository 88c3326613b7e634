"""The goal planner's outlook: each action's points come from what-if itself, a late
instalment stops counting when it leaves its window, the months add up, and declared
answers point to the verification that would make them count."""

from __future__ import annotations

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from scoring.ml.features import REPAYMENTS_WINDOW_DAYS
from scoring.models import Dispute, Repayment
from scoring.services.disputes import dispute_file
from scoring.services.outlook import PLAN_MONTHS, score_outlook
from scoring.services.scores import score_recompute, score_what_if
from tests.dates import days_ago, today
from tests.factories import (
    add_account,
    add_repayment,
    grant,
    make_id_number,
    make_user,
    solid_file,
    verify_identity,
)

pytestmark = pytest.mark.django_db


def _person(name: str, sequence: str):
    user = make_user(name)
    verify_identity(user, make_id_number(sequence=sequence))
    grant(user)
    solid_file(user)
    return user


@pytest.fixture
def late_payer(active_model):
    """An ordinary file with one instalment 10 days late, due 500 days ago (it leaves the
    24-month window in 230 days), and a card used at 45%."""
    user = _person("late-payer", "431")
    loan = add_account(user, "consumer_loan", opened_on=days_ago(700), limit=5000)
    add_repayment(loan, due=days_ago(500), days_overdue=10)
    score_recompute(user=user, trigger="test")
    return user


def test_a_late_instalment_stops_counting_when_its_window_passes(late_payer):
    outlook = score_outlook(user=late_payer)
    [late] = [r for r in outlook.late_records if r.kind == "repayment"]
    assert late.on == days_ago(500)
    assert late.stops_counting_on == days_ago(500) + datetime.timedelta(days=REPAYMENTS_WINDOW_DAYS)
    assert late.days_overdue == 10
    assert len(outlook.months) == PLAN_MONTHS
    # Nothing is recovered before the instalment leaves; the month it has left, the
    # model gives points back, and they stay.
    leaves = next(i for i, m in enumerate(outlook.months) if m.month >= late.stops_counting_on)
    assert all(m.recovered == 0 for m in outlook.months[:leaves])
    assert outlook.months[leaves].recovered > 0
    assert outlook.months[-1].score == outlook.score + outlook.months[-1].recovered


def test_a_record_whose_dispute_passed_its_deadline_is_not_planned_as_counting(late_payer):
    # As the score leaves it out (scoring.selectors.records_counted), so does the plan.
    late = Repayment.objects.get(user=late_payer, days_overdue=10)
    dispute = dispute_file(
        user=late_payer, kind="repayment", record_id=late.pk, field="", statement="Paid on time."
    )
    assert [r.kind for r in score_outlook(user=late_payer).late_records] == ["repayment"]

    Dispute.objects.filter(pk=dispute.pk).update(overdue_at=timezone.now())

    assert [r.kind for r in score_outlook(user=late_payer).late_records] == []


def test_each_action_is_worth_what_what_if_says(late_payer):
    outlook = score_outlook(user=late_payer)
    by_lever = {step.lever: step.points for step in outlook.levers}
    assert "card_utilisation" in by_lever
    tried = score_what_if(user=late_payer, changes={"card_utilisation": 0.3})
    assert by_lever["card_utilisation"] == tried["delta"] > 0
    assert "income_band" not in by_lever  # a fact about the person, not a step


def test_committed_actions_add_their_points_to_every_month(late_payer):
    plain = score_outlook(user=late_payer)
    committed = score_outlook(user=late_payer, committed=["card_utilisation"])
    points = next(s.points for s in committed.levers if s.lever == "card_utilisation")
    assert committed.months[0].from_levers == points
    assert committed.months[0].score == plain.months[0].score + points
    assert [m.month for m in committed.months] == [
        today() + relativedelta(months=n) for n in range(1, PLAN_MONTHS + 1)
    ]


def test_declared_answers_point_to_the_verification_that_counts(active_model):
    user = _person("declarer", "432")
    from tests.factories import set_profile

    set_profile(user, education_level="doctorate", provident_fund_months=120)
    score_recompute(user=user, trigger="test")
    outlook = score_outlook(user=user)
    sections = {step.section: step for step in outlook.verifications}
    assert sections, "declared answers beyond the cap should offer a verification"
    for step in sections.values():
        assert step.points > 0
        assert step.url == f"/accounts/profile/{step.section}/verify/"


def test_no_outlook_without_a_score(active_model):
    user = make_user("unscored")
    outlook = score_outlook(user=user)
    assert not outlook.available
    assert outlook.months == []
