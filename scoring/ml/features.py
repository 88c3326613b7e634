"""The score's features, one documented group per dimension, computed from per-person facts.

`features_compute` turns the facts of any number of people (FACT_COLUMNS: counts, rates,
extremes and sums of their records over the features' windows) into one row of features
per person, vectorised: the nightly chunk, a single user and the synthetic population all
go through it, so a feature means the same thing everywhere. The database computes real
people's facts (scoring.selectors.feature_inputs_load); records held in memory (the
synthetic population) are aggregated by `facts_of_tables`. Missing information stays NaN
(a thin file): the scorecard gives "missing" its own points.

Gender, ethnicity and region are never features, and neither is age.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

DIMENSIONS = ("credit_history", "behaviour", "capacity", "identity", "connections")

HIGHER_IS_BETTER = "higher_is_better"
HIGHER_IS_WORSE = "higher_is_worse"
UNKNOWN_DIRECTION = "unknown"

EDUCATION_RANK = {
    "primary": 1,
    "junior_high": 2,
    "senior_high": 3,
    "associate": 4,
    "bachelor": 5,
    "master": 6,
    "doctorate": 7,
}
INCOME_RANK = {
    "lt3k": 1,
    "3k_5k": 2,
    "5k_8k": 3,
    "8k_12k": 4,
    "12k_20k": 5,
    "20k_50k": 6,
    "gt50k": 7,
}
VEHICLE_VALUE_POINTS = {"lt100k": 0.5, "100k_300k": 1.0, "gt300k": 1.5}
DELINQUENT_DAYS = 30  # a repayment this late counts as a delinquency
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class Feature:
    name: str
    dimension: str
    direction: str
    description: str


FEATURES: tuple[Feature, ...] = (
    # Credit history (信用历史): how past credit was repaid.
    Feature(
        "ch_on_time_rate",
        "credit_history",
        HIGHER_IS_BETTER,
        "Share of instalments due in the last 24 months that were paid on time.",
    ),
    Feature(
        "ch_worst_overdue_days",
        "credit_history",
        HIGHER_IS_WORSE,
        "Most days any instalment was overdue in the last 24 months.",
    ),
    Feature(
        "ch_overdue_unpaid",
        "credit_history",
        HIGHER_IS_WORSE,
        "Instalments past their due date and still unpaid today.",
    ),
    Feature(
        "ch_months_since_delinquency",
        "credit_history",
        HIGHER_IS_BETTER,
        "Months since an instalment was last 30+ days late (25 when none in 24 months).",
    ),
    Feature(
        "ch_oldest_account_months",
        "credit_history",
        HIGHER_IS_BETTER,
        "Age in months of the oldest credit account.",
    ),
    Feature(
        "ch_card_utilisation",
        "credit_history",
        HIGHER_IS_WORSE,
        "Balance over limit across open credit cards.",
    ),
    Feature(
        "ch_new_microloans_12m",
        "credit_history",
        HIGHER_IS_WORSE,
        "Online microloans opened in the last 12 months.",
    ),
    # Behaviour (行为偏好): how payments and bills are handled.
    Feature(
        "bh_active_months_12m",
        "behaviour",
        HIGHER_IS_BETTER,
        "Months with payment activity in the last 12.",
    ),
    Feature(
        "bh_spend_volatility",
        "behaviour",
        HIGHER_IS_WORSE,
        "Coefficient of variation of monthly spending (3+ active months).",
    ),
    Feature(
        "bh_categories_per_month",
        "behaviour",
        HIGHER_IS_BETTER,
        "Average number of spending categories used in an active month.",
    ),
    Feature(
        "bh_bills_on_time_rate",
        "behaviour",
        HIGHER_IS_BETTER,
        "Share of utility bills of the last 12 months paid by the due date "
        "(only with the utility-bills consent).",
    ),
    # Capacity (履约能力): the means to meet commitments.
    Feature(
        "cp_income_rank",
        "capacity",
        HIGHER_IS_BETTER,
        "Monthly income band, 1 (under ¥3,000) to 7 (over ¥50,000).",
    ),
    Feature(
        "cp_assets",
        "capacity",
        HIGHER_IS_BETTER,
        "Property (2, or 1 with a mortgage) plus vehicle value (0.5 to 1.5).",
    ),
    Feature(
        "cp_provident_fund_months",
        "capacity",
        HIGHER_IS_BETTER,
        "Months of housing provident fund contributions.",
    ),
    Feature(
        "cp_wealth_log10", "capacity", HIGHER_IS_BETTER, "log10 of 1 + the wealth products held."
    ),
    # Identity traits (身份特质): how much of the person is known and verified.
    Feature("id_verified", "identity", HIGHER_IS_BETTER, "1 when the real name is verified."),
    Feature("id_profile_completion", "identity", HIGHER_IS_BETTER, "Profile completion, 0 to 100."),
    Feature(
        "id_work_email_verified",
        "identity",
        HIGHER_IS_BETTER,
        "1 when a work email is verified with a code.",
    ),
    Feature("id_years_at_address", "identity", HIGHER_IS_BETTER, "Years at the current address."),
    Feature(
        "id_education_rank",
        "identity",
        HIGHER_IS_BETTER,
        "Highest education, 1 (primary) to 7 (doctorate).",
    ),
    # Connections (人脉关系): only with the social-connections consent.
    Feature("cn_verified_friends", "connections", HIGHER_IS_BETTER, "Number of verified friends."),
    Feature(
        "cn_friends_mean_score",
        "connections",
        HIGHER_IS_BETTER,
        "Mean score of those friends from the previous run (never the current one).",
    ),
    Feature(
        "cn_friends_court_list_share",
        "connections",
        HIGHER_IS_WORSE,
        "Share of those friends on the court list of dishonest judgment debtors.",
    ),
)
FEATURE_NAMES = tuple(feature.name for feature in FEATURES)
FEATURE_BY_NAME = {feature.name: feature for feature in FEATURES}


@dataclass
class RawTables:
    """Raw rows for a set of people, one frame per source; `people` is indexed by user_id.
    What the synthetic population holds in memory (real people's records are aggregated
    by the database instead: scoring.selectors.feature_inputs_load).

    people: see FeatureInputs
    repayments: user_id, due_date, days_overdue, paid
    accounts: user_id, kind, opened_on, closed_on, credit_limit, balance
    activity: user_id, month, spend, transactions, categories
    bills: user_id, due_date, paid_date
    wealth: user_id, product, as_of, amount
    friends: user_id, friend_score, friend_on_court_list
    """

    people: pd.DataFrame
    repayments: pd.DataFrame
    accounts: pd.DataFrame
    activity: pd.DataFrame
    bills: pd.DataFrame
    wealth: pd.DataFrame
    friends: pd.DataFrame


# The windows the records are read over, in days before the scoring day.
REPAYMENTS_WINDOW_DAYS = 730
MICROLOANS_WINDOW_DAYS = 365
ACTIVITY_WINDOW_DAYS = 365
BILLS_WINDOW_DAYS = 365
WEALTH_WINDOW_DAYS = 92

# Per person aggregates of their records, what the features are computed from; NaN where
# the person has no such record. Instalments and bills count when due before the day
# (one due today is not late yet) and within their window.
FACT_COLUMNS = (
    "rp_count",  # instalments due in the last 24 months
    "rp_on_time_rate",  # share of them paid with 0 days overdue
    "rp_worst_overdue_days",
    "rp_unpaid",  # of them, still unpaid
    "rp_days_since_late",  # days since the last one due that was 30+ days late
    "ac_count",  # credit accounts
    "ac_oldest_days",  # days since the oldest was opened
    "card_balance",  # open credit cards' balances, summed (NaN: no open card)
    "card_limit",  # and their limits
    "ac_new_microloans",  # microloans opened in the last 12 months (0: accounts, none)
    "act_months",  # active months (a transaction or more) in the last 12
    "act_spend_mean",  # over the active months
    "act_spend_std",  # sample standard deviation, over the active months
    "act_categories_mean",
    "bills_on_time_rate",  # bills due in the last 12 months paid by their due date
    "wealth_total",  # each product's latest statement in the last 92 days, summed
    "fr_count",  # verified friends
    "fr_score_mean",  # their latest scores before the run (those who have one)
    "fr_court_share",  # share of them on the court list
)


@dataclass
class FeatureInputs:
    """What features are computed from, for a set of people, both frames indexed by
    user_id: `people` and `facts` (FACT_COLUMNS).

    people: verified, education_level, work_email_verified, vehicle_owned, vehicle_value,
        property_owned, property_mortgaged, provident_fund_months, income_band,
        address_years, completion, consent_utility_bills, consent_social_connections;
        and, for real people, `declared` (the profile fields answered but not verified, a
        frozenset) and `completion_verified` (completion counting verified answers only).
        Without `declared` every answer counts as verified (the synthetic population).
    """

    people: pd.DataFrame
    facts: pd.DataFrame


def _days_before(as_of: np.datetime64, dates: pd.Series) -> pd.Series:
    return (as_of - dates).dt.days.astype(float)


def facts_of_tables(t: RawTables, *, as_of: datetime.date) -> pd.DataFrame:
    """FACT_COLUMNS from records held in memory (the synthetic population); the database
    computes the same for real people (scoring.selectors.feature_inputs_load)."""
    day = np.datetime64(as_of, "D")
    facts = pd.DataFrame(index=t.people.index.copy())

    repayments = t.repayments[
        (t.repayments["due_date"] < day)
        & (t.repayments["due_date"] > day - np.timedelta64(REPAYMENTS_WINDOW_DAYS, "D"))
    ]
    user = repayments["user_id"]
    facts["rp_count"] = repayments.groupby("user_id").size().astype(float)
    facts["rp_on_time_rate"] = (repayments["days_overdue"] == 0).groupby(user).mean()
    facts["rp_worst_overdue_days"] = (
        repayments.groupby("user_id")["days_overdue"].max().astype(float)
    )
    facts["rp_unpaid"] = (~repayments["paid"].astype(bool)).groupby(user).sum().astype(float)
    late = repayments[repayments["days_overdue"] >= DELINQUENT_DAYS]
    facts["rp_days_since_late"] = _days_before(day, late.groupby("user_id")["due_date"].max())

    accounts = t.accounts
    facts["ac_count"] = accounts.groupby("user_id").size().astype(float)
    facts["ac_oldest_days"] = _days_before(day, accounts.groupby("user_id")["opened_on"].min())
    cards = accounts[(accounts["kind"] == "credit_card") & accounts["closed_on"].isna()]
    totals = cards.groupby("user_id")[["balance", "credit_limit"]].sum()
    facts["card_balance"] = totals["balance"]
    facts["card_limit"] = totals["credit_limit"]
    new_microloan = (accounts["kind"] == "microloan") & (
        accounts["opened_on"] > day - np.timedelta64(MICROLOANS_WINDOW_DAYS, "D")
    )
    facts["ac_new_microloans"] = new_microloan.groupby(accounts["user_id"]).sum().astype(float)

    activity = t.activity[
        (t.activity["month"] <= day)
        & (t.activity["month"] > day - np.timedelta64(ACTIVITY_WINDOW_DAYS, "D"))
        & (t.activity["transactions"] > 0)
    ]
    stats = activity.groupby("user_id")["spend"].agg(["mean", "std", "size"])
    facts["act_months"] = stats["size"].astype(float)
    facts["act_spend_mean"] = stats["mean"]
    facts["act_spend_std"] = stats["std"]
    facts["act_categories_mean"] = activity.groupby("user_id")["categories"].mean().astype(float)

    bills = t.bills[
        (t.bills["due_date"] < day)
        & (t.bills["due_date"] > day - np.timedelta64(BILLS_WINDOW_DAYS, "D"))
    ]
    on_time = bills["paid_date"].notna() & (bills["paid_date"] <= bills["due_date"])
    facts["bills_on_time_rate"] = on_time.groupby(bills["user_id"]).mean().astype(float)

    # Providers report holdings by statement date: count each product's latest only.
    wealth = t.wealth[t.wealth["as_of"] > day - np.timedelta64(WEALTH_WINDOW_DAYS, "D")]
    latest = wealth.sort_values("as_of").drop_duplicates(["user_id", "product"], keep="last")
    facts["wealth_total"] = latest.groupby("user_id")["amount"].sum().astype(float)

    friends = t.friends.groupby("user_id")
    facts["fr_count"] = friends.size().astype(float)
    facts["fr_score_mean"] = friends["friend_score"].mean().astype(float)
    facts["fr_court_share"] = friends["friend_on_court_list"].mean().astype(float)
    return facts[list(FACT_COLUMNS)].astype(float)


def _credit_history(facts: pd.DataFrame, out: pd.DataFrame) -> None:
    out["ch_on_time_rate"] = facts["rp_on_time_rate"]
    out["ch_worst_overdue_days"] = facts["rp_worst_overdue_days"]
    out["ch_overdue_unpaid"] = facts["rp_unpaid"]
    since = (facts["rp_days_since_late"] / DAYS_PER_MONTH).clip(upper=25.0)
    # 25 when instalments were due but none was late; NaN when none was due.
    none_late = np.where(facts["rp_count"].notna(), 25.0, np.nan)
    out["ch_months_since_delinquency"] = since.where(since.notna(), none_late)
    out["ch_oldest_account_months"] = facts["ac_oldest_days"] / DAYS_PER_MONTH
    limit = facts["card_limit"].where(facts["card_limit"] > 0)
    out["ch_card_utilisation"] = (facts["card_balance"] / limit).clip(0, 2)
    out["ch_new_microloans_12m"] = facts["ac_new_microloans"]


def _behaviour(people: pd.DataFrame, facts: pd.DataFrame, out: pd.DataFrame) -> None:
    out["bh_active_months_12m"] = facts["act_months"].fillna(0.0)
    mean = facts["act_spend_mean"]
    steady = (facts["act_months"] >= 3) & (mean > 0)
    out["bh_spend_volatility"] = (facts["act_spend_std"] / mean.where(steady)).clip(upper=3.0)
    out["bh_categories_per_month"] = facts["act_categories_mean"]
    allowed = people["consent_utility_bills"].reindex(out.index).fillna(False).astype(bool)
    out["bh_bills_on_time_rate"] = facts["bills_on_time_rate"].where(allowed)


def _capacity(people: pd.DataFrame, facts: pd.DataFrame, out: pd.DataFrame) -> None:
    people = people.reindex(out.index)
    out["cp_income_rank"] = people["income_band"].map(INCOME_RANK).astype(float)
    property_points = np.select(
        [people["property_owned"] == True, people["property_owned"] == False],  # noqa: E712
        [np.where(people["property_mortgaged"] == True, 1.0, 2.0), 0.0],  # noqa: E712
        default=np.nan,
    )
    vehicle_points = np.select(
        [people["vehicle_owned"] == True, people["vehicle_owned"] == False],  # noqa: E712
        [people["vehicle_value"].map(VEHICLE_VALUE_POINTS).fillna(0.5).to_numpy(), 0.0],
        default=np.nan,
    )
    answered = ~(np.isnan(property_points) & np.isnan(vehicle_points))
    assets = np.nan_to_num(property_points) + np.nan_to_num(vehicle_points)
    out["cp_assets"] = np.where(answered, assets, np.nan)
    out["cp_provident_fund_months"] = people["provident_fund_months"].astype(float)
    out["cp_wealth_log10"] = np.log10(1.0 + facts["wealth_total"].clip(lower=0)).astype(float)


def _identity(people: pd.DataFrame, out: pd.DataFrame) -> None:
    people = people.reindex(out.index)
    out["id_verified"] = people["verified"].fillna(0).astype(float)
    out["id_profile_completion"] = people["completion"].fillna(0).astype(float)
    out["id_work_email_verified"] = people["work_email_verified"].fillna(0).astype(float)
    out["id_years_at_address"] = people["address_years"].astype(float)
    out["id_education_rank"] = people["education_level"].map(EDUCATION_RANK).astype(float)


def _connections(people: pd.DataFrame, facts: pd.DataFrame, out: pd.DataFrame) -> None:
    allowed = people["consent_social_connections"].reindex(out.index).fillna(False).astype(bool)
    out["cn_verified_friends"] = facts["fr_count"].fillna(0.0).where(allowed)
    out["cn_friends_mean_score"] = facts["fr_score_mean"].where(allowed)
    out["cn_friends_court_list_share"] = facts["fr_court_share"].where(allowed)


def features_compute(inputs: FeatureInputs | RawTables, *, as_of: datetime.date) -> pd.DataFrame:
    """One row of features per person in `inputs.people`, in FEATURE_NAMES order: the one
    definition of the features, from per-person facts (records held in memory are
    aggregated first by facts_of_tables)."""
    if isinstance(inputs, RawTables):
        inputs = FeatureInputs(people=inputs.people, facts=facts_of_tables(inputs, as_of=as_of))
    out = pd.DataFrame(index=inputs.people.index.copy())
    out.index.name = "user_id"
    facts = inputs.facts.reindex(out.index)
    _credit_history(facts, out)
    _behaviour(inputs.people, facts, out)
    _capacity(inputs.people, facts, out)
    _identity(inputs.people, out)
    _connections(inputs.people, facts, out)
    return out[list(FEATURE_NAMES)].astype(float)


# Profile answers a person types in (people columns, named as the profile's fields): they
# count as declared until verified. A verified work email is verified by construction.
DECLARABLE_ANSWERS = (
    "education_level",
    "vehicle_owned",
    "vehicle_value",
    "property_owned",
    "property_mortgaged",
    "provident_fund_months",
    "income_band",
    "address_years",
)
# The features those answers (and the completion they make up) feed.
DECLARABLE_FEATURES = (
    "cp_income_rank",
    "cp_assets",
    "cp_provident_fund_months",
    "id_profile_completion",
    "id_years_at_address",
    "id_education_rank",
)


def features_verified_only(inputs: FeatureInputs, features: pd.DataFrame) -> pd.DataFrame | None:
    """`features` as they would be if the declared answers had not been given: what the
    verified data alone says, against which the declared answers' points are capped
    (scoring.ml.declared). None when the tables know of no declared answers."""
    people = inputs.people
    if "declared" not in people.columns:
        return None
    trimmed = people.copy()
    for column in DECLARABLE_ANSWERS:
        declared = people["declared"].map(lambda fields, column=column: column in fields)
        trimmed[column] = trimmed[column].astype(object).where(~declared.astype(bool), None)
    trimmed["completion"] = people["completion_verified"]
    out = features.copy()
    facts = inputs.facts.reindex(out.index)
    _capacity(trimmed, facts, out)
    _identity(trimmed, out)
    return out[list(FEATURE_NAMES)].astype(float)
