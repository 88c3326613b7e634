"""The database aggregates a person's records for the features (feature_inputs_load): the
features it gives are those the records themselves give, read row by row as the portal
read them before and aggregated in memory (facts_of_tables, what the synthetic population
goes through), for a varied population, on every database."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose, FieldMark, Identity, Profile, User
from accounts.profile_sections import completion_of_values
from scoring.ml.features import (
    FEATURE_NAMES,
    FeatureInputs,
    RawTables,
    facts_of_tables,
    features_compute,
    features_verified_only,
)
from scoring.models import (
    ActivityMonth,
    CreditAccount,
    Dispute,
    Friendship,
    Repayment,
    ScoreSnapshot,
    UtilityBill,
    WealthHolding,
)
from scoring.models.disputes import UNCOUNTED
from scoring.population.generate import population_draw
from scoring.population.store import population_save
from scoring.selectors import PROFILE_VALUES, court_listed_at, feature_inputs_load
from tests.dates import today
from tests.factories import (
    ModelVersionFactory,
    add_account,
    add_activity,
    add_bill,
    add_repayment,
    add_wealth,
    befriend,
    grant,
    make_user,
    mark_verified,
    past_snapshot,
    set_profile,
)

# Sums of amounts in cents (exact in the database, rounded once) against sums of the
# amounts as floats, row by row: the same to the last bits of a double.
FLOAT_SUMS = ("ch_card_utilisation", "bh_spend_volatility", "cp_wealth_log10")


def _records(ids: list[int], *, as_of: datetime.date, before: datetime.datetime) -> RawTables:
    """The records of these people, row by row, each person's profile read in Python: how
    the features were read before the database aggregated them."""
    people_rows = []
    rows = (
        User.objects.filter(pk__in=ids)
        .order_by("pk")
        .values(
            "pk", "identity__id", "profile__field_marks", *(f"profile__{n}" for n in PROFILE_VALUES)
        )
    )
    consents = set(
        ConsentGrant.objects.current().filter(user_id__in=ids).values_list("user_id", "purpose")
    )
    for row in rows:
        profile = {name: row[f"profile__{name}"] for name in PROFILE_VALUES}
        marks = row["profile__field_marks"] or {}
        declared = frozenset(
            name
            for name, value in profile.items()
            if value not in (None, "")
            and name != "work_email_verified_at"
            and (marks.get(name) or {}).get("mark") != FieldMark.VERIFIED
        )
        verified_only = {k: None if k in declared else v for k, v in profile.items()}
        people_rows.append(
            {
                "user_id": row["pk"],
                "verified": 1.0 if row["identity__id"] else 0.0,
                **{k: profile[k] for k in ("education_level", "vehicle_owned", "vehicle_value")},
                **{k: profile[k] for k in ("property_owned", "property_mortgaged", "income_band")},
                "work_email_verified": 1.0 if profile["work_email_verified_at"] else 0.0,
                "provident_fund_months": profile["provident_fund_months"],
                "address_years": profile["address_years"],
                "completion": completion_of_values(profile),
                "declared": declared,
                "completion_verified": completion_of_values(verified_only),
                "consent_utility_bills": (row["pk"], ConsentPurpose.UTILITY_BILLS) in consents,
                "consent_social_connections": (row["pk"], ConsentPurpose.SOCIAL_CONNECTIONS)
                in consents,
            }
        )
    people = pd.DataFrame(people_rows).set_index("user_id")
    for column in ("provident_fund_months", "address_years"):
        people[column] = people[column].astype(float)

    def frame(queryset, columns, *dates):
        table = pd.DataFrame.from_records(list(queryset.values_list(*columns)), columns=columns)
        for column in dates:
            table[column] = pd.to_datetime(table[column]).astype("datetime64[ns]")
        return table

    # A repayment or bill under a dispute past its deadline unanswered does not count.
    uncounted = {
        kind: Dispute.objects.filter(UNCOUNTED, kind=kind).values("record_id")
        for kind in (Dispute.Kind.REPAYMENT, Dispute.Kind.BILL)
    }
    repayments = frame(
        Repayment.objects.filter(user_id__in=ids).exclude(pk__in=uncounted["repayment"]),
        ["user_id", "due_date", "days_overdue", "paid_date"],
        "due_date",
    )
    repayments["paid"] = repayments["paid_date"].notna()
    accounts = frame(
        CreditAccount.objects.filter(user_id__in=ids),
        ["user_id", "kind", "opened_on", "closed_on", "credit_limit", "balance"],
        "opened_on",
        "closed_on",
    )
    accounts[["credit_limit", "balance"]] = accounts[["credit_limit", "balance"]].astype(float)
    activity = frame(
        ActivityMonth.objects.filter(user_id__in=ids),
        ["user_id", "month", "spend", "transactions", "categories"],
        "month",
    )
    activity["spend"] = activity["spend"].astype(float)
    bills = frame(
        UtilityBill.objects.filter(user_id__in=ids).exclude(pk__in=uncounted["bill"]),
        ["user_id", "due_date", "paid_date"],
        "due_date",
        "paid_date",
    )
    wealth = frame(
        WealthHolding.objects.filter(user_id__in=ids), ["user_id", "product", "as_of", "amount"]
    )
    wealth["as_of"] = pd.to_datetime(wealth["as_of"]).astype("datetime64[ns]")
    wealth["amount"] = wealth["amount"].astype(float)
    previous = ScoreSnapshot.objects.filter(
        user_id=OuterRef("friend_id"), computed_at__lt=before
    ).order_by("-computed_at")
    friends = pd.DataFrame.from_records(
        list(
            Friendship.objects.filter(user_id__in=ids)
            .annotate(
                score=Subquery(previous.values("score")[:1]),
                listed=court_listed_at("friend__identity__id_number_hash"),
            )
            .values_list("user_id", "score", "listed")
        ),
        columns=["user_id", "friend_score", "friend_on_court_list"],
    ).astype({"friend_score": float, "friend_on_court_list": float})
    return RawTables(people, repayments, accounts, activity, bills, wealth, friends)


def _edge_cases(as_of: datetime.date, model_version) -> None:
    """People whose records sit on the windows' edges and the rules' corners."""

    def ago(days: int) -> datetime.date:
        return as_of - datetime.timedelta(days=days)

    a, b, c, d = (make_user(f"edge-{i}") for i in range(4))
    grant(a, ConsentPurpose.UTILITY_BILLS, ConsentPurpose.SOCIAL_CONNECTIONS)
    grant(b, ConsentPurpose.SOCIAL_CONNECTIONS)
    loan = add_account(a, opened_on=ago(900))
    add_repayment(loan, due=as_of, days_overdue=0, paid=False)  # due today: not late yet
    add_repayment(loan, due=ago(730), days_overdue=60)  # just outside 24 months
    in_time = add_repayment(loan, due=ago(729), days_overdue=30, paid=False)
    late = add_repayment(loan, due=ago(100), days_overdue=5)
    add_account(a, "credit_card", opened_on=ago(400), limit=0, balance=10)  # no limit
    add_account(b, "credit_card", opened_on=ago(400), limit=1000.10, balance=333.37)
    add_account(b, "credit_card", opened_on=ago(300), limit=2000.20, balance=4000.01)
    add_account(b, "credit_card", opened_on=ago(300), limit=500, closed_on=ago(10))
    add_account(b, "microloan", opened_on=ago(364))
    add_account(b, "microloan", opened_on=ago(365))
    for k in range(4):  # the same spending every month: no volatility at all
        add_activity(a, ago(31 * k).replace(day=1), spend=1234.56)
    for k, spend in enumerate((0.01, 99999.99, 17.3, 0)):
        add_activity(b, ago(31 * k).replace(day=1), spend=spend, categories=k)
    add_activity(c, ago(400).replace(day=1), spend=10)  # outside 12 months
    add_activity(c, ago(40).replace(day=1), spend=10, transactions=0)  # inactive
    add_bill(a, due=ago(10), paid_on=ago(10))
    late_bill = add_bill(a, due=ago(20), paid_on=ago(19))
    unpaid_bill = add_bill(a, due=ago(30), paid_on=None)
    add_bill(a, due=as_of, paid_on=None)  # due today
    add_bill(b, due=ago(10), paid_on=ago(12))  # no consent: not counted
    add_wealth(a, 1000.10, as_of=ago(80))
    add_wealth(a, 2000.20, as_of=ago(5))  # the fund's latest statement
    add_wealth(a, 300.33, as_of=ago(91), product="deposit")
    add_wealth(a, 999, as_of=ago(92), product="insurance")  # too old
    add_wealth(b, -50, as_of=ago(1))
    # Disputes: two past their deadline unanswered (those records do not count), one
    # answered after it and one still in time (those count).
    overdue = timezone.now() - datetime.timedelta(days=1)
    for record, kind, status, overdue_at in (
        (late, Dispute.Kind.REPAYMENT, Dispute.Status.UNDER_REVIEW, overdue),
        (unpaid_bill, Dispute.Kind.BILL, Dispute.Status.RECEIVED, overdue),
        (late_bill, Dispute.Kind.BILL, Dispute.Status.REJECTED, overdue),
        (in_time, Dispute.Kind.REPAYMENT, Dispute.Status.RECEIVED, None),
    ):
        Dispute.objects.create(
            user=a,
            kind=kind,
            record_id=record.pk,
            record_summary="x",
            statement="x",
            status=status,
            due_at=overdue,
            overdue_at=overdue_at,
        )
    befriend(a, b)
    befriend(a, c)
    befriend(b, d)
    past_snapshot(
        b, 612, model_version=model_version, at=timezone.now() - datetime.timedelta(days=3)
    )
    past_snapshot(
        b, 640, model_version=model_version, at=timezone.now() - datetime.timedelta(days=1)
    )
    past_snapshot(
        c, 701, model_version=model_version, at=timezone.now() + datetime.timedelta(days=1)
    )
    set_profile(a, income_band="gt50k", property_owned=True, property_mortgaged=True, school="x")
    mark_verified(a, "income_band", "school")
    set_profile(b, vehicle_owned=True, vehicle_value="", address="路", address_years=0)
    Profile.objects.filter(user=c).delete()


@pytest.fixture
def population(db):
    as_of = today()
    to_user = population_save(population_draw(users=300, seed=3, as_of=as_of))
    model_version = ModelVersionFactory()
    _edge_cases(as_of, model_version)
    earlier = timezone.now() - datetime.timedelta(days=2)
    for user_id in list(to_user.values())[::3]:  # friends' scores from a previous run
        user = User.objects.get(pk=user_id)
        past_snapshot(user, 450 + user_id * 7 % 400, model_version=model_version, at=earlier)
    users = list(User.objects.order_by("pk").values_list("pk", flat=True))
    assert len(users) >= 300 + 4
    # Some verified answers, so that declared and verified answers both occur.
    for user_id in list(to_user.values())[::7]:
        mark_verified(User.objects.get(pk=user_id), "income_band", "address_years")
    return users, as_of


def test_the_database_aggregates_give_the_features_the_records_give(population):
    users, as_of = population
    before = timezone.now()

    inputs = feature_inputs_load(user_ids=users, as_of=as_of, previous_before=before)
    records = _records(users, as_of=as_of, before=before)
    read = features_compute(inputs, as_of=as_of)
    expected = features_compute(records, as_of=as_of)

    assert list(read.index) == list(expected.index) == users
    exact = [name for name in FEATURE_NAMES if name not in FLOAT_SUMS]
    pd.testing.assert_frame_equal(read[exact], expected[exact], check_exact=True)
    pd.testing.assert_frame_equal(
        read[list(FLOAT_SUMS)], expected[list(FLOAT_SUMS)], check_exact=False, rtol=1e-12
    )
    for name in ("completion", "completion_verified", "declared", "verified"):
        assert list(inputs.people[name]) == list(records.people[name]), name
    verified_read = features_verified_only(inputs, read)
    verified_expected = features_verified_only(
        FeatureInputs(records.people, facts_of_tables(records, as_of=as_of)), expected
    )
    pd.testing.assert_frame_equal(verified_read[exact], verified_expected[exact], check_exact=True)
    # The population is varied: every feature takes several values, missing included.
    for name in FEATURE_NAMES:
        assert read[name].nunique() >= 2, name
    assert read.isna().any().sum() >= 15


def test_one_person_reads_the_same_alone_as_in_a_chunk(population):
    users, as_of = population
    before = timezone.now()
    chunk = features_compute(
        feature_inputs_load(user_ids=users, as_of=as_of, previous_before=before), as_of=as_of
    )
    for user_id in users[::37] + users[-4:]:
        alone = features_compute(
            feature_inputs_load(user_ids=[user_id], as_of=as_of, previous_before=before),
            as_of=as_of,
        )
        pd.testing.assert_frame_equal(alone, chunk.loc[[user_id]], check_exact=True)


def test_court_listed_friends_and_identities_are_read(population):
    users, as_of = population
    inputs = feature_inputs_load(user_ids=users, as_of=as_of)
    assert inputs.people["verified"].sum() == Identity.objects.filter(user_id__in=users).count()
    assert (inputs.facts["fr_court_share"].fillna(0) > 0).any()
    assert np.isfinite(inputs.facts["act_spend_std"].dropna()).all()
