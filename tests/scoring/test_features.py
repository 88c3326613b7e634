"""Features of hand-made users: each value follows the documented rule for a known set of
rows, missing information stays missing, consents gate what they cover, and the chunk path,
the one-user path and the synthetic population all mean the same thing."""

from __future__ import annotations

import datetime
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ConsentGrant, ConsentPurpose, Identity, User
from accounts.profile_sections import completion_percent
from accounts.services import consent_revoke
from scoring.ml.features import DIMENSIONS, FEATURE_NAMES, FEATURES, features_compute
from scoring.models import CourtListEntry
from scoring.population.generate import population_draw
from scoring.population.store import population_save
from scoring.selectors import feature_inputs_load
from tests.dates import month_starts, today
from tests.factories import (
    WEB,
    add_account,
    add_activity,
    add_bill,
    add_repayment,
    add_wealth,
    befriend,
    grant,
    make_id_number,
    make_user,
    past_snapshot,
    set_profile,
    solid_file,
    verify_identity,
    verify_work_email,
)

AS_OF = datetime.date(2026, 11, 21)
MONTH = 30.4375  # days, as features.py documents


def ago(days: int) -> datetime.date:
    return AS_OF - datetime.timedelta(days=days)


def features_of(*users: User, as_of=AS_OF, previous_before=None) -> pd.DataFrame:
    inputs = feature_inputs_load(
        user_ids=[u.pk for u in users], as_of=as_of, previous_before=previous_before
    )
    return features_compute(inputs, as_of=as_of)


def row_of(user: User, **kwargs) -> pd.Series:
    return features_of(user, **kwargs).loc[user.pk]


# --- The feature list itself ------------------------------------------------------------------


def test_every_feature_belongs_to_one_of_the_five_dimensions_and_each_dimension_has_features():
    assert {f.dimension for f in FEATURES} == set(DIMENSIONS)
    assert len(set(FEATURE_NAMES)) == len(FEATURES)
    for feature in FEATURES:
        assert feature.direction in ("higher_is_better", "higher_is_worse")
        assert feature.description


def test_no_feature_is_about_gender_ethnicity_region_or_age():
    for name in FEATURE_NAMES:
        for word in ("gender", "sex", "ethnic", "region", "age_", "birth"):
            assert word not in name, name


# --- Credit history ---------------------------------------------------------------------------


def test_credit_history_features_follow_the_repayment_records(db):
    user = make_user("alice")
    add_account(user, "credit_card", opened_on=ago(2000), limit=10000, balance=2500)
    add_account(user, "credit_card", opened_on=ago(400), limit=10000, balance=500)
    add_account(  # closed: its balance never counts towards utilisation
        user, "credit_card", opened_on=ago(1000), closed_on=ago(100), limit=10000, balance=9000
    )
    add_account(user, "microloan", opened_on=ago(100), limit=2000)
    add_account(user, "microloan", opened_on=ago(500), limit=2000)  # over a year ago
    loan = add_account(user, "consumer_loan", opened_on=ago(900), limit=30000)
    add_repayment(loan, due=ago(30), days_overdue=30, paid=False)
    add_repayment(loan, due=ago(60))
    add_repayment(loan, due=ago(90), days_overdue=45)
    for k in range(4, 11):
        add_repayment(loan, due=ago(30 * k))
    add_repayment(loan, due=ago(800), days_overdue=90)  # outside the 24 months
    add_repayment(loan, due=AS_OF + datetime.timedelta(days=20), paid=False)  # not yet due

    row = row_of(user)

    assert row["ch_on_time_rate"] == pytest.approx(8 / 10)
    assert row["ch_worst_overdue_days"] == 45
    assert row["ch_overdue_unpaid"] == 1
    assert row["ch_months_since_delinquency"] == pytest.approx(30 / MONTH)
    assert row["ch_oldest_account_months"] == pytest.approx(2000 / MONTH)
    assert row["ch_card_utilisation"] == pytest.approx(3000 / 20000)
    assert row["ch_new_microloans_12m"] == 1


def test_months_since_delinquency_is_the_most_recent_30_day_delay(db):
    user = make_user("bob")
    loan = add_account(user, opened_on=ago(700))
    add_repayment(loan, due=ago(300), days_overdue=35)
    add_repayment(loan, due=ago(90), days_overdue=45)
    add_repayment(loan, due=ago(30), days_overdue=29)  # late, but not a delinquency

    assert row_of(user)["ch_months_since_delinquency"] == pytest.approx(90 / MONTH)


def test_months_since_delinquency_is_25_without_one_in_24_months_and_missing_without_history(
    db,
):
    clean = make_user("clean")
    loan = add_account(clean, opened_on=ago(1200))
    add_repayment(loan, due=ago(30), days_overdue=10)
    add_repayment(loan, due=ago(800), days_overdue=90)  # 26 months ago: forgiven
    no_history = make_user("no-history")
    add_account(no_history, opened_on=ago(60))  # an account, but nothing due yet

    rows = features_of(clean, no_history)

    assert rows.at[clean.pk, "ch_months_since_delinquency"] == 25
    assert rows.at[clean.pk, "ch_worst_overdue_days"] == 10
    assert math.isnan(rows.at[no_history.pk, "ch_months_since_delinquency"])
    assert math.isnan(rows.at[no_history.pk, "ch_on_time_rate"])
    assert math.isnan(rows.at[no_history.pk, "ch_worst_overdue_days"])
    # With an account on file, "no microloans" is a known zero, not missing.
    assert rows.at[no_history.pk, "ch_new_microloans_12m"] == 0
    assert rows.at[no_history.pk, "ch_oldest_account_months"] == pytest.approx(60 / MONTH)


def test_card_utilisation_is_missing_without_an_open_credit_card_and_capped_at_2(db):
    no_card = make_user("no-card")
    add_account(no_card, "car_loan", opened_on=ago(400), limit=100000, balance=50000)
    over = make_user("over-limit")
    add_account(over, "credit_card", opened_on=ago(400), limit=1000, balance=5000)

    rows = features_of(no_card, over)

    assert math.isnan(rows.at[no_card.pk, "ch_card_utilisation"])
    assert rows.at[over.pk, "ch_card_utilisation"] == 2.0


def test_an_instalment_due_today_is_not_yet_overdue(db):
    user = make_user("due-today")
    loan = add_account(user, opened_on=ago(400))
    add_repayment(loan, due=ago(30))
    add_repayment(loan, due=AS_OF, paid=False)

    assert row_of(user)["ch_overdue_unpaid"] == 0


# --- Behaviour --------------------------------------------------------------------------------


def test_behaviour_features_follow_the_monthly_activity(db):
    user = make_user("carol")
    months = month_starts(14, of=AS_OF)
    for month, spend, categories in zip(
        months[:5], (1000, 2000, 3000, 2000, 2000), (2, 4, 6, 4, 4), strict=True
    ):
        add_activity(user, month, spend=spend, categories=categories)
    add_activity(user, months[5], spend=0, transactions=0, categories=0)  # an idle month
    add_activity(user, months[13], spend=99999, categories=12)  # over a year ago

    row = row_of(user)

    assert row["bh_active_months_12m"] == 5
    assert row["bh_spend_volatility"] == pytest.approx(
        np.std([1000, 2000, 3000, 2000, 2000], ddof=1) / 2000
    )
    assert row["bh_categories_per_month"] == pytest.approx(4)


def test_active_months_count_at_most_the_last_12(db):
    user = make_user("steady")
    for month in month_starts(14, of=AS_OF):
        add_activity(user, month, spend=3000)

    row = row_of(user)

    assert row["bh_active_months_12m"] == 12
    assert row["bh_spend_volatility"] == 0


def test_spend_volatility_needs_three_active_months(db):
    two = make_user("two-months")
    for month in month_starts(2, of=AS_OF):
        add_activity(two, month)
    none = make_user("no-activity")

    rows = features_of(two, none)

    assert rows.at[two.pk, "bh_active_months_12m"] == 2
    assert math.isnan(rows.at[two.pk, "bh_spend_volatility"])
    assert rows.at[none.pk, "bh_active_months_12m"] == 0
    assert math.isnan(rows.at[none.pk, "bh_spend_volatility"])
    assert math.isnan(rows.at[none.pk, "bh_categories_per_month"])


def _bills(user: User) -> None:
    add_bill(user, due=ago(10), paid_on=ago(12))  # early
    add_bill(user, due=ago(40), paid_on=ago(40))  # on the day
    add_bill(user, due=ago(70), paid_on=ago(60))  # late
    add_bill(user, due=ago(100), paid_on=None)  # never paid
    add_bill(user, due=ago(130), paid_on=ago(131))
    add_bill(user, due=ago(400), paid_on=ago(300))  # over a year ago
    add_bill(user, due=AS_OF + datetime.timedelta(days=10), paid_on=None)  # not yet due


def test_bills_on_time_rate_counts_only_with_the_utility_bills_consent(db):
    allowed = make_user("bills-allowed")
    grant(allowed, ConsentPurpose.UTILITY_BILLS)
    refused = make_user("bills-refused")
    for user in (allowed, refused):
        _bills(user)

    rows = features_of(allowed, refused)

    assert rows.at[allowed.pk, "bh_bills_on_time_rate"] == pytest.approx(3 / 5)
    assert math.isnan(rows.at[refused.pk, "bh_bills_on_time_rate"])


def test_a_bill_due_today_is_not_yet_late(db):
    user = make_user("bill-due-today")
    grant(user, ConsentPurpose.UTILITY_BILLS)
    add_bill(user, due=ago(30), paid_on=ago(31))
    add_bill(user, due=AS_OF, paid_on=None)

    assert row_of(user)["bh_bills_on_time_rate"] == 1.0


# --- Capacity ---------------------------------------------------------------------------------


def test_capacity_features_follow_the_profile_and_the_wealth_held(db):
    user = make_user("dave")
    set_profile(
        user,
        income_band="8k_12k",
        property_owned=True,
        property_mortgaged=True,
        vehicle_owned=True,
        vehicle_value="gt300k",
        provident_fund_months=36,
    )
    add_wealth(user, 4000, as_of=ago(10), product="fund")
    add_wealth(user, 5999, as_of=ago(30), product="money_market")
    add_wealth(user, 80000, as_of=ago(200), product="deposit")  # an old statement

    row = row_of(user)

    assert row["cp_income_rank"] == 4
    assert row["cp_assets"] == 1 + 1.5
    assert row["cp_provident_fund_months"] == 36
    assert row["cp_wealth_log10"] == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("property_owned", "mortgaged", "vehicle_owned", "vehicle_value", "expected"),
    [
        (None, None, None, "", math.nan),
        (False, None, None, "", 0.0),
        (None, None, False, "", 0.0),
        (True, False, None, "", 2.0),
        (True, True, False, "", 1.0),
        (None, None, True, "lt100k", 0.5),
        (True, False, True, "100k_300k", 3.0),
    ],
)
def test_assets_are_missing_only_when_neither_property_nor_vehicle_is_answered(
    db, property_owned, mortgaged, vehicle_owned, vehicle_value, expected
):
    user = make_user("assets")
    set_profile(
        user,
        property_owned=property_owned,
        property_mortgaged=mortgaged,
        vehicle_owned=vehicle_owned,
        vehicle_value=vehicle_value,
    )

    value = row_of(user)["cp_assets"]

    assert (math.isnan(value) and math.isnan(expected)) or value == expected


def test_a_holding_reported_on_two_statement_dates_counts_once(db):
    user = make_user("statements")
    add_wealth(user, 9999, as_of=ago(40), product="fund")
    add_wealth(user, 9999, as_of=ago(10), product="fund")  # the same fund, a month later

    assert row_of(user)["cp_wealth_log10"] == pytest.approx(4.0)


# --- Identity ---------------------------------------------------------------------------------


def test_identity_features_follow_verification_and_the_profile(db):
    user = make_user("erin")
    verify_identity(user, make_id_number())
    set_profile(
        user,
        education_level="master",
        school="示例大学",
        graduation_year=2015,
        address="示例路1号",
        address_years=7,
        phone="13800138000",
    )
    verify_work_email(user)  # also completes the work section
    profile = user.profile
    profile.refresh_from_db()

    row = row_of(user)

    assert row["id_verified"] == 1
    assert row["id_work_email_verified"] == 1
    assert row["id_years_at_address"] == 7
    assert row["id_education_rank"] == 6
    assert row["id_profile_completion"] == 50 == completion_percent(profile)


def test_identity_features_of_a_user_without_a_profile(db):
    row = row_of(make_user("blank"))

    assert (row["id_verified"], row["id_profile_completion"], row["id_work_email_verified"]) == (
        0,
        0,
        0,
    )
    assert math.isnan(row["id_years_at_address"])
    assert math.isnan(row["id_education_rank"])


# --- Connections ------------------------------------------------------------------------------


def test_connections_use_friends_scores_from_before_the_run_only(db, active_model):
    run_started = timezone.now()
    user = make_user("frank")
    grant(user, ConsentPurpose.SOCIAL_CONNECTIONS)
    first, second, listed = (make_user(name) for name in ("f1", "f2", "f3"))
    for friend in (first, second, listed):
        befriend(user, friend)
    day = datetime.timedelta(days=1)
    past_snapshot(first, 650, model_version=active_model, at=run_started - 2 * day)
    past_snapshot(first, 700, model_version=active_model, at=run_started - day)
    past_snapshot(first, 900, model_version=active_model, at=run_started + day / 24)  # this run
    past_snapshot(second, 600, model_version=active_model, at=run_started - 3 * day)
    verify_identity(listed, make_id_number(sequence="125"), full_name="王芳")
    CourtListEntry.objects.create(id_number_hash=Identity.objects.get(user=listed).id_number_hash)

    row = row_of(user, previous_before=run_started)

    assert row["cn_verified_friends"] == 3
    assert row["cn_friends_mean_score"] == pytest.approx((700 + 600) / 2)
    assert row["cn_friends_court_list_share"] == pytest.approx(1 / 3)


def test_connections_count_only_with_the_social_connections_consent(db):
    refused = make_user("no-social")
    alone = make_user("alone")
    grant(alone, ConsentPurpose.SOCIAL_CONNECTIONS)
    befriend(refused, make_user("friend"))

    rows = features_of(refused, alone)

    for name in ("cn_verified_friends", "cn_friends_mean_score", "cn_friends_court_list_share"):
        assert math.isnan(rows.at[refused.pk, name]), name
    assert rows.at[alone.pk, "cn_verified_friends"] == 0
    assert math.isnan(rows.at[alone.pk, "cn_friends_mean_score"])


def test_revoking_the_utility_bills_consent_removes_bills_from_the_features(db):
    user = make_user("revoker")
    grant(user, ConsentPurpose.UTILITY_BILLS)
    _bills(user)
    assert row_of(user)["bh_bills_on_time_rate"] == pytest.approx(3 / 5)

    consent_revoke(user=user, grant_id=ConsentGrant.objects.get(user=user).pk, client=WEB)

    assert math.isnan(row_of(user)["bh_bills_on_time_rate"])


# --- Thin files, protected traits -------------------------------------------------------------

THIN_MISSING = {
    "ch_on_time_rate",
    "ch_worst_overdue_days",
    "ch_overdue_unpaid",
    "ch_months_since_delinquency",
    "ch_oldest_account_months",
    "ch_card_utilisation",
    "ch_new_microloans_12m",
    "bh_spend_volatility",
    "bh_categories_per_month",
    "bh_bills_on_time_rate",
    "cp_income_rank",
    "cp_assets",
    "cp_provident_fund_months",
    "cp_wealth_log10",
    "id_years_at_address",
    "id_education_rank",
    "cn_verified_friends",
    "cn_friends_mean_score",
    "cn_friends_court_list_share",
}


def test_a_thin_file_has_missing_values_where_documented_and_zeros_elsewhere(db):
    row = row_of(make_user("thin"))

    assert {name for name in FEATURE_NAMES if math.isnan(row[name])} == THIN_MISSING
    for name in set(FEATURE_NAMES) - THIN_MISSING:
        assert row[name] == 0, name


def test_gender_and_region_never_change_the_features(db):
    man = make_user("man-beijing")
    woman = make_user("woman-guangzhou")
    verify_identity(man, make_id_number("110105", "19900307", "123"), full_name="张伟")
    verify_identity(woman, make_id_number("440103", "19900307", "124"), full_name="李娜")
    for user in (man, woman):
        solid_file(user, of=AS_OF)
    identities = {i.user_id: (i.gender, i.region_code) for i in Identity.objects.all()}
    assert identities[man.pk] != identities[woman.pk]
    assert identities[man.pk][0] != identities[woman.pk][0]

    rows = features_of(man, woman)

    pd.testing.assert_series_equal(
        rows.loc[man.pk], rows.loc[woman.pk], check_names=False, check_exact=True
    )


# --- One user, a chunk, and the queries it takes ----------------------------------------------


def _varied_users() -> list[User]:
    users = []
    for i in range(6):
        user = make_user(f"varied-{i}")
        if i % 2:
            solid_file(user, of=AS_OF)
        if i % 3 == 0:
            grant(user, ConsentPurpose.UTILITY_BILLS, ConsentPurpose.SOCIAL_CONNECTIONS)
            _bills(user)
        if i == 4:
            loan = add_account(user, opened_on=ago(300))
            add_repayment(loan, due=ago(35), days_overdue=35, paid=False)
            add_wealth(user, 120000, as_of=ago(5))
        users.append(user)
    befriend(users[0], users[1])
    befriend(users[0], users[3])
    return users


def test_a_chunk_of_users_gives_the_same_features_as_one_user_at_a_time(db):
    users = _varied_users()

    chunk = features_of(*users)
    one_by_one = pd.concat([features_of(user) for user in users])

    assert list(chunk.index) == [u.pk for u in users]
    pd.testing.assert_frame_equal(chunk, one_by_one.loc[chunk.index])


def test_a_large_chunk_keeps_exactly_the_requested_users_and_their_own_rows(db):
    """Over 500 users the rows are read by id range: users in that range who were not asked
    for must neither appear nor lend their records to anyone."""
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(username=f"bulk-{i:04d}", password=unusable) for i in range(1100)]
    )
    users = list(User.objects.filter(username__startswith="bulk-").order_by("pk"))
    wanted = users[::2]  # 550 users, every other one
    holders = [users[10], users[11], users[500], users[501], users[1098], users[1099]]
    for i, user in enumerate(holders):
        solid_file(user, of=AS_OF)
        if i % 2:
            loan = add_account(user, opened_on=ago(200))
            add_repayment(loan, due=ago(40), days_overdue=40, paid=False)
        grant(user, ConsentPurpose.SOCIAL_CONNECTIONS)
    befriend(users[10], users[11])

    chunk = features_of(*wanted)

    assert set(chunk.index) == {u.pk for u in wanted}
    for user in holders:
        if user in wanted:
            pd.testing.assert_series_equal(chunk.loc[user.pk], row_of(user))
    thin = chunk.loc[[u.pk for u in wanted if u not in holders]]
    assert thin["ch_on_time_rate"].isna().all()
    assert (thin["bh_active_months_12m"] == 0).all()


def _queries(users: list[User]) -> list[dict]:
    with CaptureQueriesContext(connection) as captured:
        feature_inputs_load(
            user_ids=[u.pk for u in users], as_of=AS_OF, previous_before=timezone.now()
        )
    return list(captured)


def test_loading_tables_takes_the_same_queries_for_1_or_30_users(db):
    users = []
    for i in range(30):
        user = make_user(f"q-{i}")
        solid_file(user, of=AS_OF)
        grant(user, ConsentPurpose.UTILITY_BILLS, ConsentPurpose.SOCIAL_CONNECTIONS)
        _bills(user)
        add_wealth(user, 1000, as_of=ago(3))
        users.append(user)
    for a, b in itertools.pairwise(users):
        befriend(a, b)

    one, thirty = _queries(users[:1]), _queries(users)

    assert len(one) == len(thirty)
    # One per source (people, consents and six kinds of records), and on PostgreSQL the
    # transaction that holds them with its planner setting.
    reads = [q for q in thirty if q["sql"].startswith("SELECT")]
    assert len(reads) == 8
    assert len(thirty) <= 11


def test_loading_tables_takes_the_same_queries_for_1_or_100_repayments(db):
    short, long = make_user("short-history"), make_user("long-history")
    add_repayment(add_account(short, opened_on=ago(900)), due=ago(30))
    loan = add_account(long, opened_on=ago(900))
    for k in range(100):
        add_repayment(loan, due=ago(7 * k + 1), days_overdue=k % 3)

    assert len(_queries([short])) == len(_queries([long]))
    assert features_of(long).at[long.pk, "ch_on_time_rate"] == pytest.approx(34 / 100)


# --- The synthetic population, saved and read back --------------------------------------------


@pytest.fixture
def saved_population(db):
    """300 drawn people saved as portal users; seed 3 has court-listed, unverified friends."""
    as_of = today()
    population = population_draw(users=300, seed=3, as_of=as_of)
    to_user = population_save(population)
    read = features_of(*User.objects.filter(pk__in=to_user.values()), as_of=as_of)
    drawn = population.features.rename(index=to_user).loc[read.index]
    return drawn, read


def _mismatches(drawn: pd.DataFrame, read: pd.DataFrame, name: str) -> list[int]:
    a, b = drawn[name].to_numpy(), read[name].to_numpy()
    same = np.isclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True)
    return list(read.index[~same])


def test_a_saved_population_reads_back_with_the_features_it_was_drawn_with(saved_population):
    drawn, read = saved_population
    assert len(read) == 300
    # Friends' scores come from a previous run; a freshly saved population has none.
    for name in set(FEATURE_NAMES) - {"cn_friends_mean_score", "cn_friends_court_list_share"}:
        assert _mismatches(drawn, read, name) == [], name


def test_a_saved_population_reads_back_its_friends_court_list_share(saved_population):
    drawn, read = saved_population
    assert _mismatches(drawn, read, "cn_friends_court_list_share") == []
